/**
 * Metrics: `proxy_define_metric`, `proxy_increment_metric`,
 * `proxy_record_metric`, `proxy_get_metric`. Changes are also noted on the
 * context that made them, so a connection can say what it counted.
 *
 * @module
 */
import type { HostRuntime } from "../runtime.ts";
import type { HostImport } from "../types.ts";
import { envCall, MEMORY, OK, written } from "./common.ts";

/** The metric functions. */
export function metricCalls(rt: HostRuntime): HostImport[] {
  const mem = () => rt.memory;
  return [
    envCall("proxy_define_metric", "iiii", (
      type: number,
      namePtr: number,
      nameSize: number,
      idPtr: number,
    ) => {
      const name = mem().readString(namePtr, nameSize);
      if (name === undefined) return MEMORY;
      const answer = rt.metrics.define(type >>> 0, name);
      if (answer.result !== OK) return answer.result;
      return written(mem().writeU32(idPtr, answer.id!));
    }),
    envCall(
      "proxy_increment_metric",
      "iI",
      (id: number, offset: bigint) =>
        rt.metrics.increment(id >>> 0, offset, rt.effective().metricDeltas),
    ),
    envCall(
      "proxy_record_metric",
      "iI",
      (id: number, value: bigint) =>
        rt.metrics.record(id >>> 0, value, rt.effective().metricDeltas),
    ),
    envCall("proxy_get_metric", "ii", (id: number, valuePtr: number) => {
      const answer = rt.metrics.get(id >>> 0);
      if (answer.result !== OK) return answer.result;
      return written(mem().writeU64(valuePtr, answer.value!));
    }),
  ];
}
