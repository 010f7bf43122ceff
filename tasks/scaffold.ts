/** `wasmerang scaffold <mode>`: write the example files `up` launches. Dispatch only. */
import {
  scaffoldDocker,
  type ScaffoldDockerOptions,
} from "../lib/docker/scaffold.ts";
import { UserError } from "../lib/errors.ts";
import { parseMode } from "./modes.ts";

/** Options of `wasmerang scaffold`, the union of every mode's. */
export type ScaffoldOptions = ScaffoldDockerOptions;

/** Runs `scaffold` for `modeText`. */
export async function scaffold(
  modeText: string,
  options: ScaffoldOptions = {},
): Promise<void> {
  const mode = parseMode(modeText, ["docker", "istio"]);
  switch (mode) {
    case "docker":
      return await scaffoldDocker(options);
    default:
      throw new UserError(
        `scaffold ${mode} is not available in this build yet`,
        2,
      );
  }
}
