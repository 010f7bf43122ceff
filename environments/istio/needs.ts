/** What the istio environment needs: its name and tools, for `doctor istio` and the checks before `up`, `probe`, `down`. */
import type { NeedsOf } from "../../lib/prerequisites.ts";

/** Docker (for kind), kind, kubectl and istioctl. */
export const ISTIO_NEEDS: NeedsOf = {
  name: "istio",
  needs: ["docker", "docker engine", "kind", "kubectl", "istioctl"],
};
