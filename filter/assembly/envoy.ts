// Calls into the proxy that the SDK either lacks or makes fatal: property reads that may
// be missing, the set_envoy_filter_state foreign function, and metrics that may fail.
import * as imports from "@solo-io/proxy-runtime/imports";
import { free } from "@solo-io/proxy-runtime/malloc";
import {
  define_metric,
  MetricTypeValues,
  WasmResultValues,
} from "@solo-io/proxy-runtime/runtime";

/** Where the host writes a returned buffer's pointer and size. */
class HostBuffer {
  pointer: usize = 0;
  size: usize = 0;

  pointerAddress(): usize {
    return changetype<usize>(this) + offsetof<HostBuffer>("pointer");
  }
  sizeAddress(): usize {
    return changetype<usize>(this) + offsetof<HostBuffer>("size");
  }
  /** Returns the buffer to the module's allocator once its bytes have been copied. */
  release(): void {
    if (this.pointer != 0) free(this.pointer);
    this.pointer = 0;
    this.size = 0;
  }
}

const returned = new HostBuffer();

/** Result of the last call, for the log line. */
export function resultName(result: u32): string {
  if (result == WasmResultValues.Ok) return "Ok";
  if (result == WasmResultValues.NotFound) return "NotFound";
  if (result == WasmResultValues.BadArgument) return "BadArgument";
  if (result == WasmResultValues.Unimplemented) return "Unimplemented";
  return "WasmResult(" + result.toString() + ")";
}

function getProperty(path: string): bool {
  const encoded = String.UTF8.encode(path);
  returned.pointer = 0;
  returned.size = 0;
  const result = imports.proxy_get_property(
    changetype<usize>(encoded),
    encoded.byteLength,
    returned.pointerAddress(),
    returned.sizeAddress(),
  );
  if (result != WasmResultValues.Ok) {
    returned.release();
    return false;
  }
  return true;
}

/** A string property such as "source\0address", or "" when the proxy has none. */
export function stringProperty(path: string): string {
  if (!getProperty(path)) return "";
  const value = String.UTF8.decodeUnsafe(returned.pointer, returned.size);
  returned.release();
  return value;
}

/** An int64 property such as "destination\0port" (8 bytes, little-endian), or -1. */
export function integerProperty(path: string): i64 {
  if (!getProperty(path)) return -1;
  const value: i64 = returned.size == 8 ? load<i64>(returned.pointer) : -1;
  returned.release();
  return value;
}

/** Appends a protobuf length-delimited string field. */
function writeStringField(out: Array<u8>, field: u8, value: string): void {
  const bytes = Uint8Array.wrap(String.UTF8.encode(value));
  out.push((field << 3) | 2);
  let length = <u32> bytes.length;
  while (length >= 0x80) {
    out.push(<u8> ((length & 0x7f) | 0x80));
    length >>= 7;
  }
  out.push(<u8> length);
  for (let i = 0; i < bytes.length; i++) out.push(bytes[i]);
}

/**
 * Sets an Envoy filter state entry through the `set_envoy_filter_state` foreign function
 * (Envoy >= 1.28). Arguments are envoy.source.extensions.common.wasm.SetEnvoyFilterStateArguments:
 * path = 1, value = 2, span = 3 (left at its default, FilterChain, which tcp_proxy reads).
 */
export function setEnvoyFilterState(key: string, value: string): u32 {
  const message = new Array<u8>(0);
  writeStringField(message, 1, key);
  writeStringField(message, 2, value);
  const args = new Uint8Array(message.length);
  for (let i = 0; i < message.length; i++) args[i] = message[i];
  const name = String.UTF8.encode("set_envoy_filter_state");
  returned.pointer = 0;
  returned.size = 0;
  const result = imports.proxy_call_foreign_function(
    changetype<usize>(name),
    name.byteLength,
    args.dataStart,
    args.length,
    returned.pointerAddress(),
    returned.sizeAddress(),
  );
  returned.release();
  return result;
}

/** A counter that is silently absent when the proxy refuses to define it. */
export class SafeCounter {
  id: u32 = 0;
  defined: bool = false;

  constructor(name: string) {
    const defined = define_metric(MetricTypeValues.Counter, name);
    if (defined.result == WasmResultValues.Ok) {
      this.id = defined.metric_id;
      this.defined = true;
    }
  }

  increment(): void {
    if (this.defined) imports.proxy_increment_metric(this.id, 1);
  }
}
