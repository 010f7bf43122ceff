// Wasmerang's filter library: calls into the proxy that @solo-io/proxy-runtime 0.1.8
// either lacks or makes fatal: property reads that may be missing, the
// set_envoy_filter_state foreign function, the log level, and metrics that may fail.
import * as imports from "@solo-io/proxy-runtime/imports";
import { free, malloc as allocate } from "@solo-io/proxy-runtime/malloc";
import {
  define_metric,
  LogLevelValues,
  MetricTypeValues,
  WasmResultValues,
} from "@solo-io/proxy-runtime/runtime";
import { proxy_get_log_level } from "./imports_0_2_1";

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
  /** Returns the buffer to the module's allocator once its bytes have been read. */
  release(): void {
    if (this.pointer != 0 && this.pointer != changetype<usize>(SCRATCH)) {
      free(this.pointer);
    }
    this.pointer = 0;
    this.size = 0;
  }
}

/**
 * Where a property read's value lands when it fits: no allocation per read. One read
 * at a time: the caller releases `returned` before the next read.
 */
const SCRATCH = new ArrayBuffer(256);
let scratchArmed = false;

/**
 * The module's allocator for the host. readProperty arms it for its one call: the
 * SDK's own reads take the returned pointer for an ArrayBuffer of exactly that size,
 * so they must keep getting real allocations.
 */
export function malloc(size: i32): usize {
  if (scratchArmed && size <= SCRATCH.byteLength) {
    scratchArmed = false;
    return changetype<usize>(SCRATCH);
  }
  return allocate(size);
}

/** The buffer the last property read or foreign call returned. */
export const returned = new HostBuffer();

const SET_ENVOY_FILTER_STATE = String.UTF8.encode("set_envoy_filter_state");
const LOG_LEVEL = new ArrayBuffer(4);

/** Result of the last call, for the log line. */
export function resultName(result: u32): string {
  if (result == WasmResultValues.Ok) return "Ok";
  if (result == WasmResultValues.NotFound) return "NotFound";
  if (result == WasmResultValues.BadArgument) return "BadArgument";
  if (result == WasmResultValues.Unimplemented) return "Unimplemented";
  return "WasmResult(" + result.toString() + ")";
}

/** Whether the proxy logs debug lines now (`proxy_get_log_level` at debug or trace). */
export function debugEnabled(): bool {
  const at = changetype<usize>(LOG_LEVEL);
  if (proxy_get_log_level(at) != WasmResultValues.Ok) return false;
  return load<u32>(at) <= <u32> LogLevelValues.debug;
}

/**
 * Reads a property (its path encoded once, NUL-separated) into `returned`; false when
 * the proxy has none. The caller reads `returned` and then releases it.
 */
export function readProperty(path: ArrayBuffer): bool {
  returned.pointer = 0;
  returned.size = 0;
  scratchArmed = true;
  const result = imports.proxy_get_property(
    changetype<usize>(path),
    path.byteLength,
    returned.pointerAddress(),
    returned.sizeAddress(),
  );
  scratchArmed = false;
  if (result != WasmResultValues.Ok) {
    returned.release();
    return false;
  }
  return true;
}

/** A string property such as "source\0address", or "" when the proxy has none. */
export function stringProperty(path: ArrayBuffer): string {
  if (!readProperty(path)) return "";
  const value = String.UTF8.decodeUnsafe(returned.pointer, returned.size);
  returned.release();
  return value;
}

/** An int64 property such as "destination\0port" (8 bytes, little-endian), or -1. */
export function integerProperty(path: ArrayBuffer): i64 {
  if (!readProperty(path)) return -1;
  let value: i64 = -1;
  if (returned.size == 8) value = load<i64>(returned.pointer);
  returned.release();
  return value;
}

/**
 * The envoy.source.extensions.common.wasm.SetEnvoyFilterStateArguments for one cluster
 * name, encoded once and reused: path = 1, value = 2, span = 3 (left at its default,
 * FilterChain, which tcp_proxy reads). The name is `prefix`, an optional port, `suffix`:
 * an Istio name that takes the connection's port is re-encoded, in place, only when the
 * port differs from the last one.
 */
export class FilterStateArguments {
  bytes: ArrayBuffer;
  length: i32 = 0;
  valueStart: i32 = 0;
  valueLength: i32 = 0;
  port: i32 = -1;
  key: ArrayBuffer;
  prefix: ArrayBuffer;
  suffix: ArrayBuffer;

  /** `port` < 0: the name has no port; 0: it is given per connection by `usePort`. */
  constructor(key: string, prefix: string, suffix: string, port: i32) {
    this.key = String.UTF8.encode(key);
    this.prefix = String.UTF8.encode(prefix);
    this.suffix = String.UTF8.encode(suffix);
    // Two tags, two varints of up to 5 bytes, a port of up to 5 digits.
    this.bytes = new ArrayBuffer(
      this.key.byteLength + this.prefix.byteLength + this.suffix.byteLength +
        17,
    );
    if (port != 0) this.encode(port);
  }

  /** Encodes the name with `port` (1..65535) unless it already has it. */
  usePort(port: i32): void {
    if (port != this.port) this.encode(port);
  }

  /** The cluster name, for a log line. */
  clusterName(): string {
    return String.UTF8.decodeUnsafe(
      changetype<usize>(this.bytes) + this.valueStart,
      this.valueLength,
    );
  }

  /** Calls set_envoy_filter_state with these arguments; the proxy's result. */
  apply(): u32 {
    returned.pointer = 0;
    returned.size = 0;
    const result = imports.proxy_call_foreign_function(
      changetype<usize>(SET_ENVOY_FILTER_STATE),
      SET_ENVOY_FILTER_STATE.byteLength,
      changetype<usize>(this.bytes),
      this.length,
      returned.pointerAddress(),
      returned.sizeAddress(),
    );
    returned.release();
    return result;
  }

  encode(port: i32): void {
    this.port = port;
    let digits = 0;
    if (port > 0) digits = decimalDigits(port);
    const start = changetype<usize>(this.bytes);
    let at = writeField(start, 1, this.key);
    this.valueLength = this.prefix.byteLength + digits +
      this.suffix.byteLength;
    at = writeTag(at, 2, this.valueLength);
    this.valueStart = <i32> (at - start);
    at = copy(at, this.prefix);
    let rest = port;
    for (let i = digits - 1; i >= 0; i--) {
      store<u8>(at + i, <u8> (0x30 + rest % 10));
      rest /= 10;
    }
    at = copy(at + digits, this.suffix);
    this.length = <i32> (at - start);
  }
}

function decimalDigits(value: i32): i32 {
  let digits = 1;
  while (value >= 10) {
    value /= 10;
    digits++;
  }
  return digits;
}

/** Writes a length-delimited field's tag and length; returns where its bytes go. */
function writeTag(at: usize, field: u8, length: i32): usize {
  store<u8>(at++, (field << 3) | 2);
  let rest = <u32> length;
  while (rest >= 0x80) {
    store<u8>(at++, <u8> ((rest & 0x7f) | 0x80));
    rest >>= 7;
  }
  store<u8>(at++, <u8> rest);
  return at;
}

function writeField(at: usize, field: u8, bytes: ArrayBuffer): usize {
  return copy(writeTag(at, field, bytes.byteLength), bytes);
}

function copy(at: usize, bytes: ArrayBuffer): usize {
  memory.copy(at, changetype<usize>(bytes), bytes.byteLength);
  return at + bytes.byteLength;
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
