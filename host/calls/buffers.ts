/**
 * Buffers: `proxy_get_buffer_status`, `proxy_get_buffer_bytes`,
 * `proxy_set_buffer_bytes`, and ABI 0.1.0's `proxy_get_configuration`. A
 * network filter sees the connection's data and the two configurations; HTTP
 * bodies and call data are empty.
 *
 * @module
 */
import { BUFFER_TYPE_MAX, BufferType } from "../abi.ts";
import type { ContextState } from "../context.ts";
import type { HostRuntime } from "../runtime.ts";
import type { HostImport } from "../types.ts";
import {
  BAD,
  EMPTY,
  envCall,
  MEMORY,
  NOT_FOUND,
  OK,
  written,
} from "./common.ts";

/** The buffer a context sees for `type`: undefined is NotFound. */
function bufferOf(
  rt: HostRuntime,
  context: ContextState,
  type: number,
): Uint8Array | undefined {
  switch (type) {
    case BufferType.NetworkDownstreamData:
      return context.downstreamData ?? EMPTY;
    case BufferType.NetworkUpstreamData:
      return context.upstreamData ?? EMPTY;
    case BufferType.VmConfiguration:
      return rt.vmConfiguration;
    case BufferType.PluginConfiguration:
      return context.pluginConfigurationVisible
        ? rt.pluginConfiguration
        : undefined;
    case BufferType.HttpCallResponseBody:
      return undefined;
    default:
      // HTTP bodies, gRPC receive buffer and call data: empty in a network filter.
      return EMPTY;
  }
}

/** `a` then `b`, in a new array. */
function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Envoy's network-buffer `copyFrom`: prepend, replace whole, or append. */
function spliceBuffer(
  current: Uint8Array,
  start: number,
  length: number,
  data: Uint8Array,
): Uint8Array | undefined {
  if (start === 0) {
    if (length === 0) return concatBytes(data, current);
    if (length >= current.length) return data;
    return undefined;
  }
  if (start >= current.length) return concatBytes(current, data);
  return undefined;
}

/** The part of `buffer` from `start`, at most `length` bytes. */
function slice(buffer: Uint8Array, start: number, length: number): Uint8Array {
  if (start > buffer.length) return EMPTY;
  const end = Math.min(start + length, buffer.length);
  return end === start ? EMPTY : buffer.subarray(start, end);
}

/** Replaces the connection data of `type` in `context` (BadArgument where it cannot be set). */
function setBuffer(
  context: ContextState,
  type: number,
  start: number,
  length: number,
  data: Uint8Array,
): number {
  const downstream = type === BufferType.NetworkDownstreamData;
  if (!downstream && type !== BufferType.NetworkUpstreamData) return BAD;
  const current = downstream ? context.downstreamData : context.upstreamData;
  if (current === null) return BAD;
  const next = spliceBuffer(current, start, length, data);
  if (next === undefined) return BAD;
  if (downstream) context.downstreamData = next;
  else context.upstreamData = next;
  return OK;
}

/** The buffer functions of `rt`'s ABI version. */
export function bufferCalls(rt: HostRuntime): HostImport[] {
  const mem = () => rt.memory;
  /** The buffer of `type` for the effective context, or the WasmResult refusing it. */
  const lookup = (type: number): Uint8Array | number => {
    if (type >>> 0 > BUFFER_TYPE_MAX) return BAD;
    return bufferOf(rt, rt.effective(), type) ?? NOT_FOUND;
  };
  const calls = [
    envCall("proxy_get_buffer_status", "iii", (
      type: number,
      lengthPtr: number,
      flagsPtr: number,
    ) => {
      const buffer = lookup(type);
      if (typeof buffer === "number") return buffer;
      if (!mem().writeU32(lengthPtr, buffer.length)) return MEMORY;
      return written(mem().writeU32(flagsPtr, 0));
    }),
    envCall("proxy_get_buffer_bytes", "iiiii", (
      type: number,
      start: number,
      length: number,
      ptrPtr: number,
      sizePtr: number,
    ) => {
      const buffer = lookup(type);
      if (typeof buffer === "number") return buffer;
      const bytes = slice(buffer, start >>> 0, length >>> 0);
      return written(mem().copyToPointerSize(bytes, ptrPtr, sizePtr));
    }),
    envCall("proxy_set_buffer_bytes", "iiiii", (
      type: number,
      start: number,
      length: number,
      dataPtr: number,
      dataSize: number,
    ) => {
      const buffer = lookup(type);
      if (typeof buffer === "number") return buffer;
      const data = mem().read(dataPtr, dataSize);
      if (data === undefined) return MEMORY;
      return setBuffer(rt.effective(), type, start >>> 0, length >>> 0, data);
    }),
  ];
  if (rt.abiVersion === "0.1.0") {
    calls.push(
      envCall("proxy_get_configuration", "ii", (ptr: number, size: number) => {
        const context = rt.effective();
        const value = context.pluginConfigurationVisible
          ? rt.pluginConfiguration
          : rt.vmConfiguration;
        return written(mem().copyToPointerSize(value, ptr, size));
      }),
    );
  }
  return calls;
}
