/** The docker environment: Envoy and the egresses in Docker Compose. */
import type { Environment } from "../environment.ts";
import { DOCKER_OPTIONS } from "./options.ts";
import { DOCKER_NEEDS } from "./needs.ts";
import { type DockerDownOptions, downDocker } from "./down.ts";
import { type DockerProbeOptions, probeDocker } from "./probe.ts";
import { type DockerScaffoldOptions, scaffoldDocker } from "./scaffold.ts";
import { type DockerUpOptions, upDocker } from "./up.ts";

/** `scaffold|up|probe|down docker`. */
export const docker = {
  ...DOCKER_NEEDS,
  options: DOCKER_OPTIONS,
  scaffold: scaffoldDocker,
  up: upDocker,
  probe: probeDocker,
  down: downDocker,
} satisfies Environment<
  DockerUpOptions,
  DockerProbeOptions,
  DockerDownOptions,
  DockerScaffoldOptions
>;
