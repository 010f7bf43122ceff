/**
 * The local example in one process: one egress server per cluster, answering
 * with its name (the parity filter's `egress1`, `egress2` by default, or the
 * clusters `--cluster` names), and the proxy in front of them, all on
 * loopback unless told otherwise.
 *
 * @module
 */
import {
  ConfigurationRejectedError,
  type LogEntry,
  type LogLevel,
  WasmLoadError,
} from "../host/mod.ts";
import { UserError } from "../lib/errors.ts";
import {
  type FilterConfig,
  parseFilterConfig,
  ROOT_ID,
} from "../lib/routing.ts";
import type { AccessRecord } from "./access_log.ts";
import type { HostPort } from "../lib/address.ts";
import { type EgressServer, startEgress } from "./egress.ts";
import { startEgressThread } from "./egress_thread.ts";
import { type LocalProxy, type ProxyOptions, startProxy } from "./proxy.ts";
import type { FilterVmOptions } from "./filter_vm.ts";
import { EMBEDDED_MODULE, type ProbeJudge } from "../lib/judge.ts";

/** Defaults of `wasmerang up local`. */
export const LOCAL_DEFAULTS = {
  listen: "127.0.0.1:10000",
  egress1: "127.0.0.1:19001",
  egress2: "127.0.0.1:19002",
  config: "standalone",
} as const;

/** What to start. */
export interface PlaneOptions {
  /** The proxy's address (port 0: any free port). */
  listen: HostPort;
  /**
   * Addresses of the parity filter's first and second egress (its even and
   * odd clusters, named by its configuration); ignored with `clusters`.
   */
  egress?: [HostPort, HostPort];
  /**
   * The clusters by name, each with its egress's address; the first is the
   * default (tcp_proxy's `cluster`). With these the configuration is the
   * filter's alone: the plane does not read it.
   */
  clusters?: readonly { name: string; address: HostPort }[];
  /** The plugin configuration, as `--config` gives it. */
  config: string;
  /** The filter module. */
  wasm: Uint8Array;
  /** The module's path for reports (default: the embedded filter). */
  module?: string;
  /** The root id the filter starts under (default `wasmerang`). */
  rootId?: string;
  /** Called with each access-log line. */
  onAccess?: (line: string, record: AccessRecord) => void;
  /** Called with each of the filter's log lines. */
  onFilterLog?: (entry: LogEntry) => void;
  /**
   * The filter's log level (default `"info"`, as Envoy's); at `"debug"` the
   * Wasmerang filter writes one line per connection, as `up local` shows.
   */
  logLevel?: LogLevel;
  /** Run each egress server on its own thread instead of the proxy's (as `up local` does). */
  egressThreads?: boolean;
}

/** A running local example. */
export interface LocalPlane {
  /** Where the proxy listens. */
  readonly listen: HostPort;
  /** Egress servers in cluster order, the default first. */
  readonly egress: readonly EgressServer[];
  /** The parity filter's configuration, when the clusters came from it (no `clusters` option). */
  readonly config?: FilterConfig;
  /** The module, root id and configuration the proxy runs, and its default cluster: what a probe expects by. */
  readonly judge: ProbeJudge;
  /** The proxy. */
  readonly proxy: LocalProxy;
  /** Stops the proxy and the egress servers. */
  close(): Promise<void>;
}

/** Checks a configuration for local use: plain cluster names, which local egress servers carry. */
export function localConfig(text: string): FilterConfig {
  let config: FilterConfig;
  try {
    config = parseFilterConfig(text);
  } catch (error) {
    throw new UserError(`--config: ${(error as Error).message}`, 2);
  }
  if (config.mode !== "standalone") {
    throw new UserError(
      '--config: the local example routes to plain cluster names; use "standalone" or ' +
        'JSON with "mode": "standalone" (Istio names need a mesh: wasmerang up istio)',
      2,
    );
  }
  return config;
}

/**
 * Starts the egress servers, then the proxy (whose filter must accept the
 * configuration). Anything that fails stops what was started.
 */
export async function startLocalPlane(
  options: PlaneOptions,
): Promise<LocalPlane> {
  const config = options.clusters === undefined
    ? localConfig(options.config)
    : undefined;
  const planned = options.clusters ?? config!.clusters.map((name, i) => {
    const address = options.egress?.[i];
    if (address === undefined) {
      throw new Error("startLocalPlane needs egress or clusters");
    }
    return { name, address };
  });
  if (planned.length === 0) throw new Error("startLocalPlane needs a cluster");
  const rootId = options.rootId ?? ROOT_ID;
  const started: { close(): Promise<void> }[] = [];
  try {
    const egress: EgressServer[] = [];
    for (const cluster of planned) {
      const start = options.egressThreads ? startEgressThread : startEgress;
      const server = await start(cluster.name, cluster.address);
      started.push(server);
      egress.push(server);
    }
    // The proxy hands these options on to its filter VM, log level included.
    const proxyOptions: ProxyOptions & Pick<FilterVmOptions, "logLevel"> = {
      listen: options.listen,
      clusters: new Map(
        egress.map((server) => [server.name, server.address]),
      ),
      defaultCluster: planned[0].name,
      wasm: options.wasm,
      rootId,
      configuration: options.config,
      onAccess: options.onAccess,
      onFilterLog: options.onFilterLog,
      logLevel: options.logLevel,
    };
    let proxy: LocalProxy;
    try {
      proxy = await startProxy(proxyOptions);
    } catch (error) {
      if (
        error instanceof ConfigurationRejectedError ||
        error instanceof WasmLoadError
      ) {
        throw new UserError(`the filter cannot start: ${error.message}`);
      }
      throw error;
    }
    started.push(proxy);
    return {
      listen: proxy.address,
      egress,
      ...(config === undefined ? {} : { config }),
      judge: {
        wasm: options.wasm,
        rootId,
        configuration: options.config,
        defaultCluster: planned[0].name,
        module: options.module ?? EMBEDDED_MODULE,
      },
      proxy,
      async close() {
        await Promise.all(started.map((part) => part.close()));
      },
    };
  } catch (error) {
    await Promise.all(started.map((part) => part.close()));
    throw error;
  }
}
