/**
 * Every environment, by name: the one list the `up`, `probe`, `down`,
 * `scaffold` and `doctor` commands look in. A new environment is one folder
 * beside these (its `mod.ts` an {@link Environment}), one line in
 * {@link ENVIRONMENTS}, its option types in the unions below, its flags in
 * its own `options.ts`, and one line in cli.ts's `loadModes`.
 *
 * @module
 */
import { UserError } from "../lib/errors.ts";
import type { Environment } from "./environment.ts";
import { docker } from "./docker/mod.ts";
import { envoy } from "./envoy/mod.ts";
import { istio } from "./istio/mod.ts";
import { local } from "./local/mod.ts";
import type { DockerDownOptions } from "./docker/down.ts";
import type { DockerProbeOptions } from "./docker/probe.ts";
import type { DockerScaffoldOptions } from "./docker/scaffold.ts";
import type { DockerUpOptions } from "./docker/up.ts";
import type { EnvoyProbeOptions } from "./envoy/probe.ts";
import type { EnvoyUpOptions } from "./envoy/up.ts";
import type { IstioDownOptions } from "./istio/down.ts";
import type { IstioProbeTaskOptions } from "./istio/probe.ts";
import type { IstioScaffoldOptions } from "./istio/scaffold.ts";
import type { IstioUpOptions } from "./istio/up.ts";
import type { LocalProbeCommandOptions } from "./local/probe.ts";
import type { LocalUpOptions } from "./local/up.ts";

/** Options of `up`, the union of every environment's. */
export type UpOptions =
  & DockerUpOptions
  & IstioUpOptions
  & LocalUpOptions
  & EnvoyUpOptions;

/** Options of `probe`, the union of every environment's. */
export type ProbeOptions =
  & DockerProbeOptions
  & IstioProbeTaskOptions
  & LocalProbeCommandOptions
  & EnvoyProbeOptions;

/** Options of `down`, the union of every environment's. */
export type DownOptions = DockerDownOptions & IstioDownOptions;

/** Options of `scaffold`, the union of every environment's. */
export type ScaffoldOptions = DockerScaffoldOptions & IstioScaffoldOptions;

/** An environment as the commands see it. */
export type AnyEnvironment = Environment<
  UpOptions,
  ProbeOptions,
  DownOptions,
  ScaffoldOptions
>;

/** Every environment, in the order usage messages name them. */
export const ENVIRONMENTS: readonly AnyEnvironment[] = [
  local,
  docker,
  istio,
  envoy,
];

/**
 * Finds the environment named `name`, with a one-line usage error naming the
 * choices; `which` narrows them (e.g. those with files, for `scaffold`).
 */
export function findEnvironment(
  name: string,
  which: (environment: AnyEnvironment) => boolean = () => true,
): AnyEnvironment {
  const allowed = ENVIRONMENTS.filter(which);
  const found = allowed.find((environment) => environment.name === name);
  if (found === undefined) {
    throw new UserError(
      `unknown mode "${name}": choose one of ${
        allowed.map((environment) => environment.name).join(", ")
      }`,
      2,
    );
  }
  return found;
}
