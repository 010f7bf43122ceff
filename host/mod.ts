/**
 * A proxy-wasm host in TypeScript for network (TCP) filters, faithful to
 * Envoy's (proxy-wasm-cpp-host) behaviour: load a module, open connections
 * with real addresses, read the filter state, logs and metrics.
 *
 * @example
 * ```ts
 * import { ProxyWasmVm, TCP_PROXY_CLUSTER_KEY } from "./mod.ts";
 * const wasm = await Deno.readFile("filter/build/wasmerang.wasm");
 * const vm = await ProxyWasmVm.load(wasm, { rootId: "wasmerang", configuration: "standalone" });
 * const connection = vm.openConnection({ source: "10.0.0.3:5555", destination: "10.96.0.1:443" });
 * connection.filterState.get(TCP_PROXY_CLUSTER_KEY); // "egress2"
 * connection.finish();
 * vm.close();
 * ```
 * @module
 */
export { ProxyWasmVm } from "./vm.ts";
export { type DataResult, TcpConnection } from "./connection.ts";
export type { ConnectionOptions, LogEntry, VmOptions } from "./types.ts";
export {
  ConfigurationRejectedError,
  WasmLoadError,
  WasmTrapError,
  WasmVmFailedError,
} from "./errors.ts";
export {
  ABI_MARKERS,
  type AbiVersion,
  BufferType,
  FilterStatus,
  LOG_LEVELS,
  type LogLevel,
  MetricType,
  PeerType,
  StreamType,
  WasmResult,
} from "./abi.ts";
export {
  decodeSetEnvoyFilterStateArguments,
  encodeSetEnvoyFilterStateArguments,
  FILTER_STATE_KEYS,
  SET_ENVOY_FILTER_STATE,
  type SetEnvoyFilterStateArguments,
  TCP_PROXY_CLUSTER_KEY,
} from "./foreign.ts";
