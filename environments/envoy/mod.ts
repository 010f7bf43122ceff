/** The envoy environment: the local example's story on a native Envoy. */
import type { Environment } from "../environment.ts";
import { ENVOY_OPTIONS } from "./options.ts";
import { downEnvoy } from "./down.ts";
import { type EnvoyProbeOptions, probeEnvoy } from "./probe.ts";
import { type EnvoyUpOptions, upEnvoy } from "./up.ts";

/** `up|probe|down envoy`. */
export const envoy = {
  name: "envoy",
  needs: ["envoy"],
  options: ENVOY_OPTIONS,
  up: upEnvoy,
  probe: probeEnvoy,
  down: downEnvoy,
} satisfies Environment<EnvoyUpOptions, EnvoyProbeOptions, unknown>;
