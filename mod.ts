/**
 * Wasmerang as a library for filter authors: a proxy-wasm host that runs TCP
 * filters the way Envoy does (load a VM, drive a connection, read its filter
 * state, logs and metrics), the routing facts of the flagship parity filter,
 * the filter module the tool carries, and the data plane around the host (a
 * TCP proxy with egress servers, and the probe that proves where each source
 * lands). The commands themselves (`up`, `down`, `scaffold`, `check`, …) are
 * the CLI's, not the library's.
 *
 * @example Drive one connection through the real filter
 * ```ts
 * import { embeddedFilter, ProxyWasmVm, ROOT_ID, TCP_PROXY_CLUSTER_KEY } from "./mod.ts";
 *
 * const vm = await ProxyWasmVm.load(embeddedFilter(), { rootId: ROOT_ID, configuration: "istio" });
 * const connection = vm.openConnection({ source: "10.0.0.3:5555", destination: "10.96.0.1:443" });
 * connection.filterState.get(TCP_PROXY_CLUSTER_KEY); // "outbound|443||egress2.default.svc.cluster.local"
 * connection.finish();
 * vm.close();
 * ```
 *
 * @example Run the data plane and probe it from two loopback sources
 * ```ts
 * import { embeddedFilter, probeLocal, startLocalPlane } from "./mod.ts";
 *
 * const any = { host: "127.0.0.1", port: 0 };
 * const plane = await startLocalPlane({ listen: any, egress: [any, any], config: "standalone", wasm: embeddedFilter() });
 * const report = await probeLocal({ target: plane.listen, sources: ["127.0.0.10", "127.0.0.11"], judge: plane.judge });
 * console.log(report.passed, report.failed); // 2 0
 * await plane.close();
 * ```
 *
 * @module
 */

// The proxy-wasm host: VMs, connections, errors, the ABI's numbers, Envoy's filter-state call.
export {
  ABI_MARKERS,
  type AbiVersion,
  BufferType,
  ConfigurationRejectedError,
  type ConnectionOptions,
  type DataResult,
  decodeSetEnvoyFilterStateArguments,
  encodeSetEnvoyFilterStateArguments,
  FILTER_STATE_KEYS,
  FilterStatus,
  LOG_LEVELS,
  type LogEntry,
  type LogLevel,
  MetricType,
  PeerType,
  ProxyWasmVm,
  SET_ENVOY_FILTER_STATE,
  type SetEnvoyFilterStateArguments,
  StreamType,
  TCP_PROXY_CLUSTER_KEY,
  TcpConnection,
  type VmOptions,
  WasmLoadError,
  WasmResult,
  WasmTrapError,
  WasmVmFailedError,
} from "./host/mod.ts";

// The flagship filter's routing rule in plain TypeScript: its root id, configuration and decision.
export {
  decideCluster,
  DEFAULT_CONFIG,
  type FilterConfig,
  istioClusterName,
  parseFilterConfig,
  portOf,
  ROOT_ID,
  type RoutingMode,
  sourceParity,
} from "./lib/routing.ts";

// The filter module: embedded in the tool, or loaded from a file.
export { embeddedFilter, loadFilter } from "./lib/filter_module.ts";

// The data plane: egress servers, the proxy running the filter, both together.
export {
  type AccessRecord,
  type EgressServer,
  formatAccessLog,
  type HostPort,
  LOCAL_DEFAULTS,
  type LocalPlane,
  type LocalProxy,
  type PlaneOptions,
  type ProxyOptions,
  startEgress,
  startLocalPlane,
  startProxy,
} from "./dataplane/mod.ts";

// The probe of a data plane on loopback, and the report every environment's probe gives.
export { type LocalProbeOptions, probeLocal } from "./lib/loopback_probe.ts";
export type {
  JudgedFilter,
  ProbeReport,
  ProbeResult,
} from "./lib/probe_report.ts";

// The module is the judge: a filter's own decisions, from the project's host.
export {
  type Decision,
  judgeAll,
  type JudgeOptions,
  type ProbeJudge,
} from "./lib/judge.ts";

// A table of connections through a real Envoy on loopback: what a `wasmerang new` project's test runs.
export {
  decideInEnvoy,
  ENVOY_DEFAULT_CLUSTER,
  ENVOY_STEP_HINT,
  type EnvoyConnection,
  type EnvoyDecision,
  envoyFromEnvironment,
  type EnvoyTableOptions,
} from "./lib/envoy_table.ts";

// The mistake a user can fix (a file that cannot be read, a port in use): one line, an exit code.
export { UserError } from "./lib/errors.ts";
