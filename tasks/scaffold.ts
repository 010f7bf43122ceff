/** `wasmerang scaffold <mode>`: write the example files `up` launches. Dispatch only. */
import {
  scaffoldDocker,
  type ScaffoldDockerOptions,
} from "../environments/docker/scaffold.ts";
import {
  type IstioScaffoldOptions,
  scaffoldIstio,
} from "../environments/istio/mode.ts";
import { parseMode } from "./modes.ts";

/** Options of `wasmerang scaffold`, the union of every mode's. */
export type ScaffoldOptions = ScaffoldDockerOptions & IstioScaffoldOptions;

/** Runs `scaffold` for `modeText`. */
export async function scaffold(
  modeText: string,
  options: ScaffoldOptions = {},
): Promise<void> {
  const mode = parseMode(modeText, ["docker", "istio"]);
  switch (mode) {
    case "docker":
      return await scaffoldDocker(options);
    case "istio":
      return await scaffoldIstio(options);
  }
}
