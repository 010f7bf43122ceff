/**
 * Metrics: `proxy_define_metric`, `proxy_increment_metric`,
 * `proxy_record_metric`, `proxy_get_metric`. Changes are also noted on the
 * context that made them, so a connection can say what it counted.
 *
 * @module
 */
import type { MetricAnswer } from "../metrics.ts";
import type { HostRuntime } from "../runtime.ts";
import type { HostImport } from "../types.ts";
import { envCall, MEMORY, OK, written } from "./common.ts";

/** The metric functions. */
export function metricCalls(rt: HostRuntime): HostImport[] {
  const mem = () => rt.memory;
  /** Notes a counter or gauge change on the effective context; the call's WasmResult. */
  const noted = (answer: MetricAnswer): number => {
    const { result, name, delta } = answer;
    if (result === OK && name !== undefined && delta !== undefined) {
      const deltas = rt.effective().metricDeltas;
      deltas.set(name, (deltas.get(name) ?? 0) + delta);
    }
    return result;
  };
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
        noted(rt.metrics.increment(id >>> 0, offset)),
    ),
    envCall(
      "proxy_record_metric",
      "iI",
      (id: number, value: bigint) => noted(rt.metrics.record(id >>> 0, value)),
    ),
    envCall("proxy_get_metric", "ii", (id: number, valuePtr: number) => {
      const answer = rt.metrics.get(id >>> 0);
      if (answer.result !== OK) return answer.result;
      return written(mem().writeU64(valuePtr, answer.value!));
    }),
  ];
}
