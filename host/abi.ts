/**
 * The numbers of the proxy-wasm ABI as the host and the SDKs share them
 * (proxy-wasm-cpp-sdk `proxy_wasm_common.h`, proxy-wasm spec 0.2.1).
 *
 * @example
 * ```ts
 * import { BufferType, WasmResult } from "./abi.ts";
 * BufferType.NetworkDownstreamData; // 2
 * WasmResult.NotFound; // 1
 * ```
 * @module
 */

/**
 * What every host function returns.
 *
 * @example
 * ```ts
 * import { WasmResult } from "./abi.ts";
 * WasmResult.InvalidMemoryAccess; // 6
 * ```
 */
export const WasmResult = {
  Ok: 0,
  NotFound: 1,
  BadArgument: 2,
  SerializationFailure: 3,
  ParseFailure: 4,
  BadExpression: 5,
  InvalidMemoryAccess: 6,
  Empty: 7,
  CasMismatch: 8,
  ResultMismatch: 9,
  InternalFailure: 10,
  BrokenConnection: 11,
  Unimplemented: 12,
} as const;

/**
 * The buffers `proxy_get_buffer_bytes` and friends name.
 *
 * @example
 * ```ts
 * import { BufferType } from "./abi.ts";
 * BufferType.PluginConfiguration; // 7
 * ```
 */
export const BufferType = {
  HttpRequestBody: 0,
  HttpResponseBody: 1,
  NetworkDownstreamData: 2,
  NetworkUpstreamData: 3,
  HttpCallResponseBody: 4,
  GrpcReceiveBuffer: 5,
  VmConfiguration: 6,
  PluginConfiguration: 7,
  CallData: 8,
} as const;

/** The largest valid {@link BufferType}. */
export const BUFFER_TYPE_MAX = 8;

/**
 * What a network callback returns: any non-zero value counts as StopIteration.
 *
 * @example
 * ```ts
 * import { FilterStatus } from "./abi.ts";
 * FilterStatus.StopIteration; // 1
 * ```
 */
export const FilterStatus = { Continue: 0, StopIteration: 1 } as const;

/**
 * Streams named by `proxy_continue_stream` / `proxy_close_stream`.
 *
 * @example
 * ```ts
 * import { StreamType } from "./abi.ts";
 * StreamType.Downstream; // 2
 * ```
 */
export const StreamType = {
  Request: 0,
  Response: 1,
  Downstream: 2,
  Upstream: 3,
} as const;

/**
 * Who closed a connection, as passed to the `*_connection_close` callbacks.
 *
 * @example
 * ```ts
 * import { PeerType } from "./abi.ts";
 * PeerType.Remote; // 2
 * ```
 */
export const PeerType = { Unknown: 0, Local: 1, Remote: 2 } as const;

/**
 * Metric kinds of `proxy_define_metric`.
 *
 * @example
 * ```ts
 * import { MetricType } from "./abi.ts";
 * MetricType.Gauge; // 1
 * ```
 */
export const MetricType = { Counter: 0, Gauge: 1, Histogram: 2 } as const;

/** Header map types; the largest valid one is `HttpCallResponseTrailers` (7). */
export const HEADER_MAP_TYPE_MAX = 7;

/**
 * Log levels by their ABI number (trace 0 … critical 5).
 *
 * @example
 * ```ts
 * import { LOG_LEVELS } from "./abi.ts";
 * LOG_LEVELS[4]; // "error"
 * ```
 */
export const LOG_LEVELS = [
  "trace",
  "debug",
  "info",
  "warn",
  "error",
  "critical",
] as const;

/** A proxy-wasm log level. */
export type LogLevel = typeof LOG_LEVELS[number];

/**
 * The ABI versions this host accepts, by the export that marks them.
 *
 * @example
 * ```ts
 * import { ABI_MARKERS } from "./abi.ts";
 * ABI_MARKERS.proxy_abi_version_0_2_1; // "0.2.1"
 * ```
 */
export const ABI_MARKERS = {
  proxy_abi_version_0_1_0: "0.1.0",
  proxy_abi_version_0_2_0: "0.2.0",
  proxy_abi_version_0_2_1: "0.2.1",
} as const;

/** One of the accepted ABI versions. */
export type AbiVersion = typeof ABI_MARKERS[keyof typeof ABI_MARKERS];
