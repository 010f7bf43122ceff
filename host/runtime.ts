/**
 * What the host functions need from the VM that runs them. The VM implements
 * it; the functions in `calls/` and `wasi.ts` only see this.
 *
 * @module
 */
import type { AbiVersion } from "./abi.ts";
import type { ContextState } from "./context.ts";
import type { LinearMemory } from "./memory.ts";
import type { MetricRegistry } from "./metrics.ts";
import type { SharedData, SharedQueues } from "./shared.ts";
import type { HostFunction, HostImport, PluginFacts } from "./types.ts";

/** The VM as the host functions see it. */
export interface HostRuntime {
  readonly abiVersion: AbiVersion;
  /** The module's memory; throws before the instance exists. */
  readonly memory: LinearMemory;
  readonly plugin: PluginFacts;
  readonly vmConfiguration: Uint8Array;
  readonly pluginConfiguration: Uint8Array;
  /** Lowest log level kept, as a number (trace 0 … critical 5). */
  readonly logThreshold: number;
  readonly metrics: MetricRegistry;
  readonly sharedData: SharedData;
  readonly queues: SharedQueues;
  /** Non-null while host calls are restricted (start section, VM start). */
  readonly restriction: ((key: string) => void) | null;
  /** The context calls act on: the effective context if set, else the current one. */
  effective(): ContextState;
  /** The context whose callback is running (foreign functions use this one). */
  current(): ContextState;
  /** Makes `id` the effective context; false when no such context exists. */
  setEffective(id: number): boolean;
  /** Records a log line for `context` (level as a number). */
  log(context: ContextState, level: number, message: string): void;
  /** `proxy_set_tick_period_milliseconds`. */
  setTickPeriod(milliseconds: number): void;
  /** `proxy_done` from `context`: a WasmResult. */
  done(context: ContextState): number;
  /** `proc_exit`: records the exit and traps. */
  exit(code: number): never;
}

/** `"iiI"`, `"i"` → `(i32, i32, i64) -> i32`; `"v"` results mean no result. */
export function signature(params: string, result: "i" | "v"): string {
  const type = (c: string) => (c === "I" ? "i64" : "i32");
  return `(${[...params].map(type).join(", ")}) -> ${
    result === "v" ? "void" : "i32"
  }`;
}

/** A host function of `module`, its parameters spelled as for {@link signature}. */
export function hostImport(
  module: string,
  name: string,
  params: string,
  result: "i" | "v",
  fn: HostFunction,
): HostImport {
  return { module, name, signature: signature(params, result), fn };
}

/** Wall-clock time in nanoseconds since the epoch (what Envoy's clocks answer). */
export function wallClockNanoseconds(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
}
