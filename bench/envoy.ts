/**
 * Envoy as a benchmark target: the project's bootstrap (the shared
 * template) against the benchmark's egress servers, one worker thread,
 * access log and Envoy's log to files, with one of the variants weighed
 * against each other: no filter before tcp_proxy, Envoy's native
 * `set_filter_state` + CEL equivalent, the two reference modules (no-op and
 * lean, bench/reference_modules.ts), and the filter with its `standalone` or
 * `istio` configuration.
 *
 * @module
 */
import { join } from "node:path";
import { stringify } from "yaml";
import type { HostPort } from "../lib/address.ts";
import type { EnvoyBinary } from "../lib/envoy/binary.ts";
import { envoyBootstrapData } from "../lib/envoy/bootstrap.ts";
import { withNativeParityFilter } from "../lib/envoy/native_equivalent.ts";
import { embeddedFilter } from "../lib/filter_module.ts";
import { startEnvoy } from "../lib/envoy/process.ts";
import {
  decideCluster,
  DEFAULT_CONFIG,
  parseFilterConfig,
} from "../lib/routing.ts";
import { referenceModules } from "./reference_modules.ts";

/** What sits before tcp_proxy in the Envoy target's filter chain. */
export type EnvoyVariant =
  | "none"
  | "native"
  | "noop"
  | "lean"
  | "standalone"
  | "istio";

/** Every variant, in the order the steps between them are read. */
export const ENVOY_VARIANTS: readonly EnvoyVariant[] = [
  "none",
  "native",
  "noop",
  "lean",
  "standalone",
  "istio",
];

/** Short words for each variant, for tables and logs. */
export const VARIANT_TEXT: Record<EnvoyVariant, string> = {
  none: "tcp_proxy alone (all to egress1)",
  native: "native `set_filter_state` + CEL, then tcp_proxy",
  noop: "the no-op Wasm module (all to egress1)",
  lean: "the lean two-call Wasm module",
  standalone: "the filter, `standalone` configuration",
  istio: "the filter, `istio` configuration (Istio cluster names)",
};

/** Whether the variant routes by parity (the others leave tcp_proxy's default, egress1). */
export function routesByParity(variant: EnvoyVariant): boolean {
  return variant !== "none" && variant !== "noop";
}

/** A running Envoy target. */
export interface EnvoyTarget {
  pid: number;
  stop(): Promise<void>;
}

type Bootstrap = {
  static_resources: {
    listeners: {
      filter_chains: {
        filters: { name: string; typed_config: Record<string, unknown> }[];
      }[];
    }[];
  };
};

/** Where an Envoy target listens and what it reaches. */
export interface EnvoyTargetOptions {
  listen: HostPort;
  admin: HostPort;
  egress: [HostPort, HostPort];
  variant: EnvoyVariant;
  /** The folder for the bootstrap, the module and the logs. */
  work: string;
}

/** The module the variant loads, if any. */
async function moduleBytes(
  variant: EnvoyVariant,
): Promise<Uint8Array | undefined> {
  if (variant === "noop") return (await referenceModules()).noop;
  if (variant === "lean") return (await referenceModules()).lean;
  if (variant === "standalone" || variant === "istio") return embeddedFilter();
  return undefined;
}

/**
 * The cluster names the variant's routing chooses between: the filter's
 * Istio names for the listener's port in `istio`, else egress1 and egress2.
 */
export function clusterNames(
  variant: EnvoyVariant,
  listenPort: number,
): [string, string] {
  if (variant !== "istio") return [...DEFAULT_CONFIG.clusters];
  const config = parseFilterConfig("istio");
  const destination = `127.0.0.1:${listenPort}`;
  // An even and an odd source: the names the filter builds for each.
  return [
    decideCluster("127.0.0.2:1", destination, config)!,
    decideCluster("127.0.0.3:1", destination, config)!,
  ];
}

/**
 * Writes the variant's bootstrap (and module) into `work`; returns the
 * bootstrap's path and the name its files share.
 */
export async function writeEnvoyTarget(
  options: EnvoyTargetOptions,
): Promise<{ bootstrap: string; name: string }> {
  const name = `envoy-${options.variant}`;
  const wasm = join(options.work, `${name}.wasm`);
  const bytes = await moduleBytes(options.variant);
  if (bytes !== undefined) await Deno.writeFile(wasm, bytes);
  const names = clusterNames(options.variant, options.listen.port);
  let bootstrap = envoyBootstrapData({
    writtenBy: "deno task bench",
    checkCommand: "wasmerang check envoy.yaml",
    admin: { address: options.admin.host, port: options.admin.port },
    listener: { address: options.listen.host, port: options.listen.port },
    configuration: options.variant === "istio" ? "istio" : "standalone",
    wasmFilename: wasm,
    clusters: names.map((cluster, i) => ({
      name: cluster,
      address: options.egress[i].host,
      port: options.egress[i].port,
    })),
    clusterType: "STATIC",
  });
  if (options.variant === "native") {
    bootstrap = withNativeParityFilter(bootstrap, names[0], names[1]);
  }
  const chain = (bootstrap as Bootstrap).static_resources.listeners[0]
    .filter_chains[0];
  if (options.variant === "none") {
    chain.filters = chain.filters.filter((filter) =>
      filter.name !== "envoy.filters.network.wasm"
    );
  }
  // The access log to a file, like the other proxies'.
  const tcpProxy = chain.filters.at(-1)!.typed_config as {
    access_log: { name: string; typed_config: Record<string, unknown> }[];
  };
  const format = tcpProxy.access_log[0].typed_config.log_format;
  tcpProxy.access_log = [{
    name: "envoy.access_loggers.file",
    typed_config: {
      "@type":
        "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
      path: join(options.work, `${name}-access.log`),
      log_format: format,
    },
  }];
  const file = join(options.work, `${name}.yaml`);
  await Deno.writeTextFile(file, stringify(bootstrap));
  return { bootstrap: file, name };
}

/** Starts Envoy on `listen` with the variant's filter chain. */
export async function startEnvoyTarget(
  options: EnvoyTargetOptions & { envoy: EnvoyBinary },
): Promise<EnvoyTarget> {
  const { bootstrap, name } = await writeEnvoyTarget(options);
  const process = await startEnvoy({
    envoy: options.envoy,
    bootstrap,
    admin: `${options.admin.host}:${options.admin.port}`,
    concurrency: 1,
    extraArgs: ["--log-path", join(options.work, `${name}.log`)],
  });
  return { pid: process.pid, stop: () => process.stop() };
}

/** One step between two Envoy variants: what `to` adds over `from`. */
export interface EnvoyStep {
  label: string;
  to: EnvoyVariant;
  from: EnvoyVariant;
  /** The step the filter is judged by (shown in bold, with its ratio). */
  headline?: boolean;
}

/**
 * The steps the Envoy figures are read in: from tcp_proxy alone to the
 * filter, through Envoy's Wasm floor, the host calls and the filter's own
 * work, and the filter against Envoy's native equivalent.
 */
export const ENVOY_STEPS: readonly EnvoyStep[] = [
  {
    label: "native `set_filter_state` + CEL over no filter",
    to: "native",
    from: "none",
  },
  {
    label: "Envoy's Wasm floor (the no-op module over no filter)",
    to: "noop",
    from: "none",
  },
  {
    label: "the two host calls (the lean module over the no-op)",
    to: "lean",
    from: "noop",
  },
  {
    label: "the filter's own work (the filter over the lean module)",
    to: "standalone",
    from: "lean",
  },
  {
    label: "the filter over native",
    to: "standalone",
    from: "native",
    headline: true,
  },
  {
    label: "the filter's `istio` configuration over `standalone`",
    to: "istio",
    from: "standalone",
  },
];
