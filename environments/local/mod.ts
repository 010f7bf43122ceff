/** The local environment: the filter in the built-in host, egresses on loopback. */
import type { Environment } from "../environment.ts";
import { LOCAL_OPTIONS } from "./options.ts";
import { type LocalProbeCommandOptions, probeLocalExample } from "./probe.ts";
import { downLocal } from "./down.ts";
import { type LocalUpOptions, upLocal } from "./up.ts";

/** `up|probe|down local`. */
export const local = {
  name: "local",
  needs: [],
  options: LOCAL_OPTIONS,
  up: upLocal,
  probe: probeLocalExample,
  down: downLocal,
} satisfies Environment<
  LocalUpOptions,
  LocalProbeCommandOptions,
  unknown
>;
