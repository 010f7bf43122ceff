/**
 * The flags of `up|probe|down envoy`, with their defaults from the modules
 * that apply them; those it shares with local are local's declarations.
 *
 * @module
 */
import type { EnvironmentOptions } from "../environment.ts";
import { ENVOY_DEFAULTS } from "./plane.ts";
import {
  CLUSTER,
  detach,
  DETACHED_IN,
  DOWN_DRY_RUN,
  DRY_RUN,
  FILTER_OPTION,
  JUDGE,
  LOOPBACK_SOURCES,
  ROOT_ID_OPTION,
  WASM,
} from "../local/options.ts";

/** `up|probe|down envoy`. */
export const ENVOY_OPTIONS: EnvironmentOptions = {
  summary: "the local example's story on a native Envoy",
  up: [
    {
      flags: "--listen <host:port>",
      description: "Envoy's listener",
      default: ENVOY_DEFAULTS.listen,
    },
    {
      flags: "--admin <host:port>",
      description: "Envoy's admin address",
      default: ENVOY_DEFAULTS.admin,
    },
    {
      flags: "--egress1 <host:port>",
      description: "the even egress",
      default: ENVOY_DEFAULTS.egress1,
    },
    {
      flags: "--egress2 <host:port>",
      description: "the odd egress",
      default: ENVOY_DEFAULTS.egress2,
    },
    CLUSTER,
    {
      flags: "--config <string>",
      description: 'plugin configuration, "standalone" or JSON',
      default: ENVOY_DEFAULTS.config,
    },
    WASM,
    FILTER_OPTION,
    ROOT_ID_OPTION,
    {
      flags: "--envoy <path>",
      description: "the Envoy binary",
      default: "$WASMERANG_ENVOY, else envoy on PATH",
    },
    detach("envoy"),
    DRY_RUN,
    DETACHED_IN,
  ],
  probe: [
    ...LOOPBACK_SOURCES,
    {
      flags: "--to <host:port>",
      description: "Envoy's listener to probe",
      default: `the running example's, else ${ENVOY_DEFAULTS.listen}`,
    },
    {
      flags: "--admin <host:port>",
      description: "Envoy's admin, for the filter's counters",
      default: `the running example's, else ${ENVOY_DEFAULTS.admin}`,
    },
    ...JUDGE,
  ],
  down: [DOWN_DRY_RUN],
};
