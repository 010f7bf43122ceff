/**
 * The flags of `scaffold|up|probe|down istio`, with their defaults from the
 * modules that apply them.
 *
 * @module
 */
import type { EnvironmentOptions, OptionDeclaration } from "../environment.ts";
import { DEFAULT_SETTINGS, HTTP_PORT, PROBE_PORT } from "./manifests.ts";
import { DEFAULT_ISTIO_DIR } from "./settings.ts";
import { collect, path, wholeNumber } from "../../lib/cli_options.ts";
import {
  FILTER_OPTION,
  FOLDER_ROOT_ID_DEFAULT,
  ROOT_ID_OPTION,
  SHIP_WASM_OPTION,
} from "../../lib/filter_flags.ts";
import { DOWN_DRY_RUN, DRY_RUN } from "../local/options.ts";
import { DEFAULT_PROBE_COUNT } from "./pod_probe.ts";

/** The settings `scaffold` writes, and `up` when it writes the folder. */
function settings(when: string): OptionDeclaration[] {
  return [
    {
      flags: "--namespace <ns>",
      description: `namespace of every object${when}`,
      default: DEFAULT_SETTINGS.namespace,
    },
    {
      flags: "--cluster-name <name>",
      description: `the kind cluster's name${when}`,
      default: DEFAULT_SETTINGS.clusterName,
    },
    {
      flags: "--http-override",
      description:
        `also route port ${HTTP_PORT} (HTTP to Istio) through tcp_proxy${when}`,
    },
    {
      flags: "--api <api>",
      description:
        `install the filter with a WasmPlugin (wasmplugin) or an EnvoyFilter (envoyfilter)${when}`,
      default: DEFAULT_SETTINGS.api,
    },
    {
      flags: "--cluster <name>",
      description:
        `an egress Deployment and Service the filter routes to, repeatable; the first two are its even and odd choice${when}`,
      default: DEFAULT_SETTINGS.clusters.join(", "),
      parse: collect,
    },
  ];
}

/** The example `probe` and `down` act on: the folder's, unless given. */
const TARGET: readonly OptionDeclaration[] = [
  {
    flags: "--dir <dir>",
    description: "the example folder, for its namespace and cluster",
    default: `${DEFAULT_ISTIO_DIR}, if present`,
    parse: path,
  },
  {
    flags: "--namespace <ns>",
    description: "the example's namespace",
    default: `the folder's, else ${DEFAULT_SETTINGS.namespace}`,
  },
  {
    flags: "--cluster-name <name>",
    description: "the kind cluster",
    default: `the folder's, else ${DEFAULT_SETTINGS.clusterName}`,
  },
];

/** `scaffold|up|probe|down istio`. */
export const ISTIO_OPTIONS: EnvironmentOptions = {
  summary: "a kind cluster with Istio, the filter in the sidecars",
  scaffold: [
    {
      flags: "--dir <dir>",
      description: "where to write",
      default: DEFAULT_ISTIO_DIR,
      parse: path,
    },
    { flags: "--force", description: "replace files that differ" },
    SHIP_WASM_OPTION,
    FILTER_OPTION,
    {
      ...ROOT_ID_OPTION,
      description:
        "the root id the sidecars start the filter under (the WasmPlugin's pluginName, the EnvoyFilter's root_id)",
    },
    ...settings(""),
  ],
  up: [
    {
      flags: "--dir <dir>",
      description: "the example folder",
      default: DEFAULT_ISTIO_DIR,
      parse: path,
    },
    DRY_RUN,
    SHIP_WASM_OPTION,
    FILTER_OPTION,
    {
      ...ROOT_ID_OPTION,
      description:
        "the root id the sidecars start the filter under; an existing folder must name it",
      default: FOLDER_ROOT_ID_DEFAULT,
    },
    ...settings(", when up writes the folder"),
  ],
  probe: [
    ...TARGET,
    {
      flags: "--count <n>",
      description: "connections from the client pods",
      default: String(DEFAULT_PROBE_COUNT),
      parse: wholeNumber(1, 1000),
    },
    {
      flags: "--port <port>",
      description: `${PROBE_PORT}, or ${HTTP_PORT} with the HTTP override`,
      default: String(PROBE_PORT),
      parse: wholeNumber(1, 65535),
    },
  ],
  down: [
    ...TARGET,
    { flags: "--cluster", description: "delete the whole kind cluster" },
    DOWN_DRY_RUN,
  ],
};
