/**
 * `proxy_call_foreign_function`: the foreign functions of `../foreign.ts` by
 * name (any other name is NotFound), their output copied into the module.
 *
 * @module
 */
import {
  compress,
  type ForeignOutcome,
  SET_ENVOY_FILTER_STATE,
  setEnvoyFilterState,
  uncompress,
} from "../foreign.ts";
import type { HostRuntime } from "../runtime.ts";
import type { HostImport } from "../types.ts";
import { envCall, MEMORY, NOT_FOUND } from "./common.ts";

/** A foreign function: its WasmResult, or Ok with output bytes. */
type ForeignFunction = (
  rt: HostRuntime,
  args: Uint8Array,
) => number | ForeignOutcome;

const FOREIGN_FUNCTIONS = new Map<string, ForeignFunction>([
  [SET_ENVOY_FILTER_STATE, (rt, args) => {
    // Foreign functions act on the context whose callback runs, not the effective one.
    const context = rt.current();
    return setEnvoyFilterState(
      args,
      context.facts === undefined ? undefined : context.filterState,
    );
  }],
  ["compress", (_rt, args) => compress(args)],
  ["uncompress", (_rt, args) => uncompress(args)],
]);

/** `proxy_call_foreign_function`. */
export function foreignFunctionCalls(rt: HostRuntime): HostImport[] {
  const mem = () => rt.memory;
  /** Copies `output` into the module and writes its address and size where asked (0: not asked). */
  const deliver = (
    output: Uint8Array | undefined,
    resultsPtr: number,
    resultsSizePtr: number,
  ): boolean => {
    const size = output?.length ?? 0;
    let address = 0;
    if (output !== undefined && resultsPtr !== 0 && size > 0) {
      const allocated = mem().allocate(output);
      if (allocated === undefined) return false;
      address = allocated;
    }
    return (resultsPtr === 0 || mem().writeU32(resultsPtr, address)) &&
      (resultsSizePtr === 0 || mem().writeU32(resultsSizePtr, size));
  };
  return [
    envCall("proxy_call_foreign_function", "iiiiii", (
      namePtr: number,
      nameSize: number,
      argsPtr: number,
      argsSize: number,
      resultsPtr: number,
      resultsSizePtr: number,
    ) => {
      const name = mem().readString(namePtr, nameSize);
      if (name === undefined) return MEMORY;
      const args = mem().view(argsPtr, argsSize);
      if (args === undefined) return MEMORY;
      const foreign = FOREIGN_FUNCTIONS.get(name);
      if (foreign === undefined) return NOT_FOUND;
      const outcome = foreign(rt, args);
      const result = typeof outcome === "number" ? outcome : outcome.result;
      const output = typeof outcome === "number" ? undefined : outcome.output;
      if (!deliver(output, resultsPtr, resultsSizePtr)) return MEMORY;
      return result;
    }),
  ];
}
