/** What the docker environment needs: its name and tools, for `doctor docker` and the checks before `up`, `probe`, `down`. */
import type { NeedsOf } from "../../lib/prerequisites.ts";

/** Docker, its Compose plugin and a running engine. */
export const DOCKER_NEEDS: NeedsOf = {
  name: "docker",
  needs: ["docker", "docker compose", "docker engine"],
};
