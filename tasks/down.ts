/** `wasmerang down <mode>`: tear an example down, leaving nothing behind. Dispatch only. */
import {
  type DockerDownOptions,
  downDocker,
} from "../environments/docker/down.ts";
import {
  downIstio,
  type IstioDownOptions,
} from "../environments/istio/mode.ts";
import { downLocal } from "../environments/local/down.ts";
import { downEnvoy } from "../environments/envoy/mode.ts";
import { parseMode } from "./modes.ts";

/** Options of `wasmerang down`, the union of every mode's. */
export type DownOptions = DockerDownOptions & IstioDownOptions;

/** Runs `down` for `modeText`. */
export async function down(
  modeText: string,
  options: DownOptions = {},
): Promise<void> {
  const mode = parseMode(modeText);
  switch (mode) {
    case "local":
      return await downLocal();
    case "docker":
      return await downDocker(options);
    case "istio":
      return await downIstio(options);
    case "envoy":
      return await downEnvoy();
  }
}
