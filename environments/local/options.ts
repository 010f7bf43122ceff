/**
 * The flags of `up|probe|down local`, with their defaults from the modules
 * that apply them. cli.ts builds the subcommands from these; a flag not listed
 * is a usage error.
 *
 * @module
 */
import type { EnvironmentOptions, OptionDeclaration } from "../environment.ts";
import { LOCAL_DEFAULTS } from "../../dataplane/plane.ts";
import { DEFAULT_COUNT, DEFAULT_SOURCES } from "../../lib/loopback_probe.ts";
import { FILTER_OPTION, ROOT_ID_OPTION } from "../../lib/filter_flags.ts";
import {
  collect,
  path,
  sourceRange,
  wholeNumber,
} from "../../lib/cli_options.ts";

/** `--wasm` of `up local|envoy`. */
export const WASM: OptionDeclaration = {
  flags: "--wasm <path>",
  description: "run this module instead of the embedded filter",
  parse: path,
};

/** `--filter` and `--root-id` of `up local|envoy` (lib/filter_flags.ts, as every command that runs a filter). */
export { FILTER_OPTION, ROOT_ID_OPTION };

/** `--cluster` of `up local|envoy`. */
export const CLUSTER: OptionDeclaration = {
  flags: "--cluster <name=host:port>",
  description:
    "a cluster and its egress, repeatable; the first is the default (replaces --egress1/--egress2)",
  parse: collect,
};

/** `--detach` of `up local|envoy`, for `mode`. */
export function detach(mode: string): OptionDeclaration {
  return {
    flags: "--detach",
    description:
      `run in the background (stop it with 'wasmerang down ${mode}')`,
  };
}

/** The background process of `--detach`: names its state directory. */
export const DETACHED_IN: OptionDeclaration = {
  flags: "--detached-in <dir>",
  description: "the background process's state directory",
  hidden: true,
};

/** `--dry-run` of `up`. */
export const DRY_RUN: OptionDeclaration = {
  flags: "--dry-run",
  description: "print the exact commands and files; run and write nothing",
};

/** `--dry-run` of `down`. */
export const DOWN_DRY_RUN: OptionDeclaration = {
  flags: "--dry-run",
  description: "print the exact commands; run nothing",
};

/** The filter to judge by, for `probe local|envoy`: the running example's unless given. */
export const JUDGE: readonly OptionDeclaration[] = [
  {
    flags: "--config <string>",
    description: "judge by this configuration",
    default: "the running example's",
  },
  {
    flags: "--wasm <path>",
    description: "judge by this module",
    default: "the running example's",
    parse: path,
  },
  {
    ...FILTER_OPTION,
    description:
      "judge by this filter project's module, built first when its sources changed; instead of --wasm",
    default: "the running example's",
  },
  {
    flags: "--root-id <id>",
    description: "judge under this root id",
    default: "the project's (--filter), else the running example's",
  },
  {
    flags: "--default-cluster <name>",
    description: "where a connection the filter leaves alone goes",
    default: "the running example's",
  },
];

/** `--from` and `--count` of `probe local|envoy`. */
export const LOOPBACK_SOURCES: readonly OptionDeclaration[] = [
  {
    flags: "--from <ips>",
    description: "comma-separated loopback source IPs",
    default: sourceRange(DEFAULT_SOURCES),
  },
  {
    flags: "--count <n>",
    description: "connections per source",
    default: String(DEFAULT_COUNT),
    parse: wholeNumber(1, 1000),
  },
];

/** `up|probe|down local`. */
export const LOCAL_OPTIONS: EnvironmentOptions = {
  summary: "the filter in the built-in host, egresses on loopback",
  up: [
    {
      flags: "--listen <host:port>",
      description: "the proxy's address",
      default: LOCAL_DEFAULTS.listen,
    },
    {
      flags: "--egress1 <host:port>",
      description: "the even egress",
      default: LOCAL_DEFAULTS.egress1,
    },
    {
      flags: "--egress2 <host:port>",
      description: "the odd egress",
      default: LOCAL_DEFAULTS.egress2,
    },
    CLUSTER,
    {
      flags: "--config <string>",
      description: 'plugin configuration, "standalone" or JSON',
      default: LOCAL_DEFAULTS.config,
    },
    WASM,
    FILTER_OPTION,
    ROOT_ID_OPTION,
    detach("local"),
    DRY_RUN,
    DETACHED_IN,
  ],
  probe: [
    ...LOOPBACK_SOURCES,
    {
      flags: "--to <host:port>",
      description: "the proxy to probe",
      default: `the running example's, else ${LOCAL_DEFAULTS.listen}`,
    },
    ...JUDGE,
  ],
  down: [DOWN_DRY_RUN],
};
