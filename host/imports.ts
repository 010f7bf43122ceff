/**
 * The `env` host functions of a module's ABI version, answering as Envoy does
 * for a network filter: one group per concern in `calls/`, plus the two
 * functions some toolchains' runtimes import.
 *
 * @module
 */
import { bufferCalls } from "./calls/buffers.ts";
import { foreignFunctionCalls } from "./calls/foreign.ts";
import { httpCalls } from "./calls/http.ts";
import { loggingAndTimeCalls } from "./calls/logging_time.ts";
import { metricCalls } from "./calls/metrics.ts";
import { propertyCalls } from "./calls/properties.ts";
import { sharedDataCalls } from "./calls/shared_data.ts";
import { streamCalls } from "./calls/stream.ts";
import { hostImport, type HostRuntime } from "./runtime.ts";
import type { HostImport } from "./types.ts";

/** Every `env` function for `rt`'s ABI version (plus `pthread_equal` and friends). */
export function proxyImports(rt: HostRuntime): HostImport[] {
  return [
    ...loggingAndTimeCalls(rt),
    ...bufferCalls(rt),
    ...propertyCalls(rt),
    ...sharedDataCalls(rt),
    ...metricCalls(rt),
    ...foreignFunctionCalls(rt),
    ...streamCalls(rt),
    ...httpCalls(rt),
    hostImport(
      "env",
      "pthread_equal",
      "ii",
      "i",
      (left: number, right: number) => (left === right ? 1 : 0),
    ),
    hostImport("env", "emscripten_notify_memory_growth", "i", "v", () => {}),
  ];
}
