/** `wasmerang up <mode>`: launch a working example around the filter. Dispatch only. */
import { type DockerUpOptions, upDocker } from "../environments/docker/up.ts";
import { type IstioUpOptions, upIstio } from "../environments/istio/mode.ts";
import { type LocalUpOptions, upLocal } from "../environments/local/up.ts";
import { type EnvoyUpOptions, upEnvoy } from "../environments/envoy/mode.ts";
import { parseMode } from "./modes.ts";

/** Options of `wasmerang up`, the union of every mode's. */
export type UpOptions =
  & DockerUpOptions
  & IstioUpOptions
  & LocalUpOptions
  & EnvoyUpOptions;

/** Runs `up` for `modeText`. */
export async function up(
  modeText: string,
  options: UpOptions = {},
): Promise<void> {
  const mode = parseMode(modeText);
  switch (mode) {
    case "local":
      return await upLocal(options);
    case "docker":
      return await upDocker(options);
    case "istio":
      return await upIstio(options);
    case "envoy":
      return await upEnvoy(options);
  }
}
