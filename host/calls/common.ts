/**
 * What every group of `env` host functions uses: the results they answer
 * with, and how a function is declared.
 *
 * @module
 */
import { WasmResult } from "../abi.ts";
import { hostImport } from "../runtime.ts";
import type { HostFunction, HostImport } from "../types.ts";

/** `WasmResult.Ok`. */
export const OK: number = WasmResult.Ok;
/** `WasmResult.BadArgument`. */
export const BAD: number = WasmResult.BadArgument;
/** `WasmResult.NotFound`. */
export const NOT_FOUND: number = WasmResult.NotFound;
/** `WasmResult.InvalidMemoryAccess`: a pointer outside the module's memory. */
export const MEMORY: number = WasmResult.InvalidMemoryAccess;
/** An empty value. */
export const EMPTY: Uint8Array = new Uint8Array(0);

/** An `env` function returning an i32, its parameters as `"iiI"` (i32, i32, i64). */
export function envCall(
  name: string,
  params: string,
  fn: HostFunction,
): HostImport {
  return hostImport("env", name, params, "i", fn);
}

/** Ok when a write into the module's memory succeeded, else InvalidMemoryAccess. */
export function written(ok: boolean): number {
  return ok ? OK : MEMORY;
}
