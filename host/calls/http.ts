/**
 * What a network filter sees of HTTP and gRPC, answered as Envoy answers it:
 * no header maps, no HTTP stream to answer, and no clusters to call. Pointers
 * are still checked, so a bad one is InvalidMemoryAccess as in Envoy.
 *
 * @module
 */
import { HEADER_MAP_TYPE_MAX, WasmResult } from "../abi.ts";
import { isWellFormedProtobuf } from "../foreign.ts";
import type { LinearMemory } from "../memory.ts";
import type { HostRuntime } from "../runtime.ts";
import type { HostImport } from "../types.ts";
import { BAD, EMPTY, envCall, MEMORY, NOT_FOUND, written } from "./common.ts";

/** Whether every (pointer, size) pair in `pairs` lies inside the memory. */
function allInside(mem: LinearMemory, pairs: readonly number[]): boolean {
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    if (!mem.contains(pairs[i], pairs[i + 1])) return false;
  }
  return true;
}

/** The header-map functions: BadArgument for a valid call, as no map exists. */
function headerMapCalls(rt: HostRuntime): HostImport[] {
  const mem = () => rt.memory;
  /** A header-map call whose (pointer, size) pairs are the first `pairs` arguments after the type. */
  const mapCall = (name: string, params: string, pairs: number) =>
    envCall(name, params, (type: number, ...args: number[]) => {
      if (type >>> 0 > HEADER_MAP_TYPE_MAX) return BAD;
      return allInside(mem(), args.slice(0, 2 * pairs)) ? BAD : MEMORY;
    });
  return [
    mapCall("proxy_add_header_map_value", "iiiii", 2),
    mapCall("proxy_replace_header_map_value", "iiiii", 2),
    mapCall("proxy_get_header_map_value", "iiiii", 1),
    mapCall("proxy_remove_header_map_value", "iii", 1),
    mapCall("proxy_set_header_map_pairs", "iii", 1),
    mapCall("proxy_get_header_map_size", "ii", 0),
    envCall("proxy_get_header_map_pairs", "iii", (
      type: number,
      ptrPtr: number,
      sizePtr: number,
    ) => {
      if (type >>> 0 > HEADER_MAP_TYPE_MAX) return BAD;
      return written(mem().copyToPointerSize(EMPTY, ptrPtr, sizePtr));
    }),
  ];
}

/** The outgoing-call functions: HTTP and gRPC calls fail, as no cluster exists. */
function outgoingCalls(rt: HostRuntime): HostImport[] {
  const mem = () => rt.memory;
  /** A gRPC call or stream: Envoy parses the GrpcService first, then fails to reach it. */
  const grpc = (name: string, params: string, pairs: number) =>
    envCall(name, params, (...args: number[]) => {
      if (!allInside(mem(), args.slice(0, 2 * pairs))) return MEMORY;
      return isWellFormedProtobuf(mem().view(args[0], args[1])!)
        ? WasmResult.InternalFailure
        : WasmResult.ParseFailure;
    });
  return [
    envCall("proxy_http_call", "iiiiiiiiii", (...args: number[]) => {
      const tokenPtr = args[9];
      if (!allInside(mem(), args.slice(0, 8))) return MEMORY;
      if (!mem().writeU32(tokenPtr, 0)) return MEMORY;
      return BAD; // Envoy: the named cluster does not exist.
    }),
    grpc("proxy_grpc_call", "iiiiiiiiiiii", 5),
    grpc("proxy_grpc_stream", "iiiiiiiii", 4),
    envCall("proxy_grpc_cancel", "i", () => NOT_FOUND),
    envCall("proxy_grpc_close", "i", () => NOT_FOUND),
    envCall("proxy_grpc_send", "iiii", (
      token: number,
      messagePtr: number,
      messageSize: number,
    ) => {
      if (!mem().contains(messagePtr, messageSize)) return MEMORY;
      return (token & 1) === 1 ? BAD : NOT_FOUND;
    }),
  ];
}

/** The HTTP and gRPC functions a network filter may import. */
export function httpCalls(rt: HostRuntime): HostImport[] {
  const mem = () => rt.memory;
  return [
    ...headerMapCalls(rt),
    ...outgoingCalls(rt),
    envCall("proxy_send_local_response", "iiiiiiii", (
      _code: number,
      ...pairs: number[]
    ) => written(allInside(mem(), pairs.slice(0, 6)))), // No HTTP stream to answer.
  ];
}
