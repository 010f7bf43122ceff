/**
 * Checks Envoy makes when it loads a bootstrap, beyond the schema: a terminal
 * network filter (tcp_proxy…) is last in its chain, cluster names are unique,
 * tcp_proxy clusters exist; and warnings for a chain where the wasmerang
 * filter would load and silently do nothing.
 *
 * @module
 */
import { ROOT_ID } from "../lib/routing.ts";
import type { IssueLog, Segment } from "./issues.ts";
import { anyTypeName, asList, isObject, valueAt } from "./json_values.ts";

/** Network filters that end a chain; Envoy refuses a chain where one is not last. */
const TERMINAL_NETWORK_FILTERS: Record<string, string> = {
  "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy":
    "envoy.filters.network.tcp_proxy",
  "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager":
    "envoy.filters.network.http_connection_manager",
  "envoy.extensions.filters.network.redis_proxy.v3.RedisProxy":
    "envoy.filters.network.redis_proxy",
  "envoy.extensions.filters.network.echo.v3.Echo": "envoy.filters.network.echo",
  "envoy.extensions.filters.network.direct_response.v3.Config":
    "envoy.filters.network.direct_response",
  "envoy.extensions.filters.network.thrift_proxy.v3.ThriftProxy":
    "envoy.filters.network.thrift_proxy",
  "envoy.extensions.filters.network.dubbo_proxy.v3.DubboProxy":
    "envoy.filters.network.dubbo_proxy",
  "envoy.extensions.filters.network.sni_dynamic_forward_proxy.v3.FilterConfig":
    "envoy.filters.network.sni_dynamic_forward_proxy",
};

const WASM_NETWORK = "envoy.extensions.filters.network.wasm.v3.Wasm";
const TCP_PROXY = "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";

const typedConfig = (filter: unknown) =>
  valueAt(filter, "typed_config", "typedConfig");

/** Checks Envoy makes beyond the schema, on a bootstrap that already passed it. */
export function lintBootstrap(
  log: IssueLog,
  bootstrap: Record<string, unknown>,
): void {
  const staticResources = valueAt(
    bootstrap,
    "static_resources",
    "staticResources",
  );
  const names = lintClusterNames(log, staticResources);
  const dynamicClusters = valueAt(
    valueAt(bootstrap, "dynamic_resources", "dynamicResources"),
    "cds_config",
    "cdsConfig",
  );
  asList(valueAt(staticResources, "listeners")).forEach((listener, l) => {
    for (const { chain, at } of filterChains(listener, l)) {
      const filters = asList(valueAt(chain, "filters"));
      lintSilentFilter(log, filters, at);
      filters.forEach((filter, f) => {
        const typed = typedConfig(filter);
        const type = anyTypeName(typed);
        const where: Segment[] = [...at, "filters", f];
        if (
          type && TERMINAL_NETWORK_FILTERS[type] && f !== filters.length - 1
        ) {
          log.error(
            where,
            `terminal filter ${
              TERMINAL_NETWORK_FILTERS[type]
            } must be the last filter in its chain ` +
              `(filters after it never run; Envoy rejects this)`,
          );
        }
        if (type === TCP_PROXY && !dynamicClusters) {
          const cluster = valueAt(typed, "cluster");
          if (
            typeof cluster === "string" && cluster !== "" && !names.has(cluster)
          ) {
            log.warn(
              [...where, "typed_config", "cluster"],
              `cluster "${cluster}" is not defined in static_resources.clusters`,
            );
          }
        }
      });
    }
  });
}

/** Each static cluster name once; returns the names with their index. */
function lintClusterNames(
  log: IssueLog,
  staticResources: unknown,
): Map<string, number> {
  const names = new Map<string, number>();
  asList(valueAt(staticResources, "clusters")).forEach((cluster, index) => {
    const name = valueAt(cluster, "name");
    if (typeof name !== "string") return;
    if (names.has(name)) {
      log.error(
        ["static_resources", "clusters", index, "name"],
        `cluster "${name}" is defined twice (also clusters[${
          names.get(name)
        }])`,
      );
    } else names.set(name, index);
  });
  return names;
}

/** A listener's filter chains and its default chain, each with its path. */
function filterChains(
  listener: unknown,
  l: number,
): { chain: unknown; at: Segment[] }[] {
  const chainKey = isObject(listener) && "filterChains" in listener
    ? "filterChains"
    : "filter_chains";
  const chains = asList(valueAt(listener, "filter_chains", "filterChains"))
    .map((chain, c) => ({
      chain,
      at: ["static_resources", "listeners", l, chainKey, c] as Segment[],
    }));
  const fallback = valueAt(
    listener,
    "default_filter_chain",
    "defaultFilterChain",
  );
  if (fallback !== undefined) {
    chains.push({
      chain: fallback,
      at: ["static_resources", "listeners", l, "default_filter_chain"],
    });
  }
  return chains;
}

/**
 * Warnings for a chain where the wasm filter would load and silently do
 * nothing: tcp_proxy with weighted_clusters ignores the filter state, and a
 * root_id other than the filter's leaves its root context uncreated.
 */
function lintSilentFilter(
  log: IssueLog,
  filters: unknown[],
  at: Segment[],
): void {
  const wasm = filters.findIndex((filter) =>
    anyTypeName(typedConfig(filter)) === WASM_NETWORK
  );
  if (wasm < 0) return;
  const config = valueAt(typedConfig(filters[wasm]), "config");
  const rootId = valueAt(config, "root_id", "rootId") ?? "";
  if (rootId !== ROOT_ID) {
    log.warn(
      [...at, "filters", wasm, "typed_config", "config", "root_id"],
      `root_id is ${
        JSON.stringify(rootId)
      }, not "${ROOT_ID}", the root id the wasmerang filter registers: ` +
        "with it the wasmerang filter does nothing (fine for another filter)",
    );
  }
  filters.forEach((filter, f) => {
    if (anyTypeName(typedConfig(filter)) !== TCP_PROXY) return;
    const weighted = valueAt(
      typedConfig(filter),
      "weighted_clusters",
      "weightedClusters",
    );
    if (weighted !== undefined) {
      log.warn(
        [...at, "filters", f, "typed_config", "weighted_clusters"],
        "tcp_proxy with weighted_clusters ignores the filter state envoy.tcp_proxy.cluster: " +
          "the wasm filter's choice has no effect (use cluster)",
      );
    }
  });
}
