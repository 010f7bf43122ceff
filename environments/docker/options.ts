/**
 * The flags of `scaffold|up|probe|down docker`, with their defaults from the
 * modules that apply them.
 *
 * @module
 */
import type { EnvironmentOptions, OptionDeclaration } from "../environment.ts";
import {
  DEFAULT_DIR,
  DEFAULT_ENVOY_IMAGE,
  DEFAULT_SUBNET,
  dockerNetwork,
} from "./network.ts";
import { collect, path, seconds, sourceRange } from "../../lib/cli_options.ts";
import { DEFAULT_CLUSTER_NAMES } from "../../lib/clusters.ts";
import { DEFAULT_READY_TIMEOUT_S } from "./up.ts";
import {
  FILTER_OPTION,
  FOLDER_ROOT_ID_DEFAULT,
  ROOT_ID_OPTION,
  SHIP_WASM_OPTION,
} from "../../lib/filter_flags.ts";
import { DOWN_DRY_RUN, DRY_RUN } from "../local/options.ts";

const DIR: OptionDeclaration = {
  flags: "--dir <dir>",
  description: "the example folder",
  default: DEFAULT_DIR,
  parse: path,
};

/** The clusters and the filter's configuration the folder is written with, for `when`. */
function clusters(when: string): OptionDeclaration[] {
  return [
    {
      flags: "--cluster <name>",
      description:
        `a cluster, repeatable: one egress service and one Envoy cluster each, the first tcp_proxy's default${when}`,
      default: DEFAULT_CLUSTER_NAMES.join(", "),
      parse: collect,
    },
    {
      flags: "--config <string>",
      description: `the filter's plugin configuration${when}`,
      default:
        'the embedded filter\'s for the clusters: "standalone" for egress1, egress2',
    },
  ];
}

/** `scaffold|up|probe|down docker`. */
export const DOCKER_OPTIONS: EnvironmentOptions = {
  summary: "Envoy and the egresses in Docker Compose",
  scaffold: [
    { ...DIR, description: "where to write" },
    { flags: "--force", description: "replace files that differ" },
    {
      flags: "--envoy-image <image>",
      description: "Envoy's image",
      default: DEFAULT_ENVOY_IMAGE,
    },
    {
      flags: "--subnet <cidr>",
      description: "the compose network's subnet",
      default: DEFAULT_SUBNET,
    },
    SHIP_WASM_OPTION,
    FILTER_OPTION,
    { ...ROOT_ID_OPTION, description: "the root id envoy.yaml names" },
    ...clusters(""),
  ],
  up: [
    DIR,
    DRY_RUN,
    SHIP_WASM_OPTION,
    FILTER_OPTION,
    {
      ...ROOT_ID_OPTION,
      description:
        "the root id the filter starts under; an existing folder's envoy.yaml must name it",
      default: FOLDER_ROOT_ID_DEFAULT,
    },
    ...clusters(", when up writes the folder"),
    {
      flags: "--ready-timeout <seconds>",
      description: "how long to wait for Envoy's /ready",
      default: String(DEFAULT_READY_TIMEOUT_S),
      parse: seconds,
    },
  ],
  probe: [
    DIR,
    {
      flags: "--from <ips>",
      description: "comma-separated source IPs in the compose network",
      default: `${
        sourceRange(dockerNetwork(DEFAULT_SUBNET).probeSources)
      } in the default subnet`,
    },
  ],
  down: [
    DIR,
    DOWN_DRY_RUN,
  ],
};
