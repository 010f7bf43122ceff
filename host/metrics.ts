/**
 * Metrics defined by the module, with Envoy's ids and rules: ids step by 4
 * with the type in the low bits (counter 0, gauge 1, histogram 2); a counter
 * only grows; a histogram is recorded, never read back.
 *
 * @module
 */
import { MetricType, WasmResult } from "./abi.ts";

interface Metric {
  name: string;
  type: number;
  value: number;
}

/** The outcome of defining or reading a metric. */
export interface MetricAnswer {
  result: number;
  id?: number;
  value?: bigint;
}

/** All metrics of one VM. */
export class MetricRegistry {
  #byId = new Map<number, Metric>();
  #byName = new Map<string, Metric>();
  #last = [
    MetricType.Counter,
    MetricType.Gauge,
    MetricType.Histogram,
  ] as number[];

  /** `proxy_define_metric`: a new id for `name` (the same metric if it exists). */
  define(type: number, name: string): MetricAnswer {
    if (type < 0 || type > MetricType.Histogram) {
      return { result: WasmResult.BadArgument };
    }
    const key = `${type}:${name}`;
    let metric = this.#byName.get(key);
    if (metric === undefined) {
      metric = { name, type, value: 0 };
      this.#byName.set(key, metric);
    }
    const id = (this.#last[type] += 4);
    this.#byId.set(id, metric);
    return { result: WasmResult.Ok, id };
  }

  /**
   * `proxy_increment_metric`: a WasmResult. A counter or gauge that moved is
   * also noted in `deltas` (the calling context's changes by metric name).
   */
  increment(id: number, offset: bigint, deltas: Map<string, number>): number {
    const metric = this.#byId.get(id);
    const type = id & 3;
    if (type === MetricType.Counter || type === MetricType.Gauge) {
      if (metric === undefined) return WasmResult.NotFound;
      if (type === MetricType.Counter && offset <= 0n) {
        return WasmResult.BadArgument;
      }
      const delta = Number(offset);
      metric.value += delta;
      deltas.set(metric.name, (deltas.get(metric.name) ?? 0) + delta);
      return WasmResult.Ok;
    }
    return WasmResult.BadArgument;
  }

  /**
   * `proxy_record_metric`: adds to a counter, sets a gauge, records a
   * histogram sample; a WasmResult. What a counter or histogram gained is
   * noted in `deltas` (a gauge's new value is not a change).
   */
  record(id: number, value: bigint, deltas: Map<string, number>): number {
    const metric = this.#byId.get(id);
    if (metric === undefined) return WasmResult.NotFound;
    const amount = Number(BigInt.asUintN(64, value));
    if (metric.type === MetricType.Gauge) {
      metric.value = amount;
      return WasmResult.Ok;
    }
    // Counter: add; histogram: count the sample.
    const delta = metric.type === MetricType.Counter ? amount : 1;
    metric.value += delta;
    deltas.set(metric.name, (deltas.get(metric.name) ?? 0) + delta);
    return WasmResult.Ok;
  }

  /** `proxy_get_metric`: counters and gauges only. */
  get(id: number): MetricAnswer {
    const type = id & 3;
    if (type !== MetricType.Counter && type !== MetricType.Gauge) {
      return { result: WasmResult.BadArgument };
    }
    const metric = this.#byId.get(id);
    if (metric === undefined) return { result: WasmResult.NotFound };
    return { result: WasmResult.Ok, value: BigInt(Math.trunc(metric.value)) };
  }

  /** Every metric by name: counters and gauges by value, histograms by sample count. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const metric of this.#byName.values()) out[metric.name] = metric.value;
    return out;
  }
}
