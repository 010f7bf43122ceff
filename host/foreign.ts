/**
 * The foreign functions Envoy registers that matter to a network filter:
 * `set_envoy_filter_state` (protobuf arguments, known filter-state keys only),
 * `compress` and `uncompress` (zlib). Any other name is `NotFound`.
 *
 * @module
 */
import { deflateSync, inflateSync } from "node:zlib";
import { WasmResult } from "./abi.ts";
import { shortAscii } from "./memory.ts";

/** Decoded `envoy.source.extensions.common.wasm.SetEnvoyFilterStateArguments`. */
export interface SetEnvoyFilterStateArguments {
  /** The filter-state key, e.g. `envoy.tcp_proxy.cluster`. */
  path: string;
  /** The value the key's object factory is given. */
  value: string;
  /** LifeSpan: FilterChain 0, DownstreamRequest 1, DownstreamConnection 2. */
  span: number;
}

/**
 * The name of Envoy's foreign function that writes a connection's filter state.
 *
 * @example
 * ```ts
 * import { SET_ENVOY_FILTER_STATE } from "./foreign.ts";
 * SET_ENVOY_FILTER_STATE; // "set_envoy_filter_state"
 * ```
 */
export const SET_ENVOY_FILTER_STATE = "set_envoy_filter_state";

/**
 * The filter-state key Envoy's tcp_proxy reads to override its cluster.
 *
 * @example
 * ```ts
 * import { TCP_PROXY_CLUSTER_KEY } from "./foreign.ts";
 * TCP_PROXY_CLUSTER_KEY; // "envoy.tcp_proxy.cluster"
 * ```
 */
export const TCP_PROXY_CLUSTER_KEY = "envoy.tcp_proxy.cluster";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** UTF-8 text of `bytes[start, end)`, or undefined when not valid UTF-8 (proto3 strings must be). */
function decodeStrict(
  bytes: Uint8Array,
  start: number,
  end: number,
): string | undefined {
  const ascii = shortAscii(bytes, start, end);
  if (ascii !== undefined) return ascii;
  try {
    return strictUtf8.decode(bytes.subarray(start, end));
  } catch {
    return undefined;
  }
}

/**
 * Reads protobuf wire data with plain numbers: a varint (at most 10 bytes,
 * 64 bits) leaves its low 32 bits in `low` and whether any higher bit is set
 * in `high`, which is all this message needs.
 */
class Reader {
  offset = 0;
  low = 0;
  high = false;
  field = 0;
  wireType = 0;
  constructor(readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.offset >= this.bytes.length;
  }

  /** Reads a varint into `low`/`high`; false when malformed. */
  varint(): boolean {
    const bytes = this.bytes;
    const first = bytes[this.offset];
    // Fast path: one byte, the common case for tags, lengths and enums.
    if (first !== undefined && first < 0x80) {
      this.offset++;
      this.low = first;
      this.high = false;
      return true;
    }
    let low = 0;
    let high = 0;
    for (let index = 0; index < 10; index++) {
      if (this.offset >= bytes.length) return false;
      const byte = bytes[this.offset++];
      const bits = byte & 0x7f;
      if (index < 4) low |= bits << (7 * index);
      else if (index === 4) {
        low |= (bits & 0x0f) << 28;
        high |= bits >>> 4;
      } else high |= bits;
      if ((byte & 0x80) === 0) {
        // The tenth byte holds bit 63 alone.
        if (index === 9 && byte > 1) return false;
        this.low = low >>> 0;
        this.high = high !== 0;
        return true;
      }
    }
    return false;
  }

  /** Reads a length (at most 2^31 - 1) that fits the rest; -1 when it does not. */
  length(): number {
    if (!this.varint() || this.high || this.low > 0x7fffffff) return -1;
    return this.offset + this.low > this.bytes.length ? -1 : this.low;
  }

  /** Reads a tag into `field` and `wireType`; false when malformed. */
  tag(): boolean {
    if (!this.varint() || this.high) return false;
    this.field = this.low >>> 3;
    this.wireType = this.low & 7;
    return this.field !== 0;
  }

  skipBytes(count: number): boolean {
    if (this.offset + count > this.bytes.length) return false;
    this.offset += count;
    return true;
  }
}

/** Skips one field's payload; false when malformed. */
function skip(reader: Reader, field: number, wireType: number): boolean {
  switch (wireType) {
    case 0:
      return reader.varint();
    case 1:
      return reader.skipBytes(8);
    case 5:
      return reader.skipBytes(4);
    case 2: {
      const length = reader.length();
      return length >= 0 && reader.skipBytes(length);
    }
    case 3:
      // A group: fields until the matching end-group tag.
      while (!reader.done) {
        if (!reader.tag()) return false;
        if (reader.wireType === 4) return reader.field === field;
        if (!skip(reader, reader.field, reader.wireType)) return false;
      }
      return false;
    default:
      return false;
  }
}

/**
 * Whether `bytes` parse as some protobuf message (every field well formed),
 * the way a message of unknown fields would.
 *
 * @example
 * ```ts
 * import { isWellFormedProtobuf } from "./foreign.ts";
 * isWellFormedProtobuf(new Uint8Array([0x08, 0x01])); // true
 * isWellFormedProtobuf(new Uint8Array([0x0a, 0x05])); // false: truncated
 * ```
 */
export function isWellFormedProtobuf(bytes: Uint8Array): boolean {
  const reader = new Reader(bytes);
  while (!reader.done) {
    if (
      !reader.tag() || reader.wireType === 4 ||
      !skip(reader, reader.field, reader.wireType)
    ) return false;
  }
  return true;
}

/** Decodes into `into`; false when the bytes do not parse (see {@link decodeSetEnvoyFilterStateArguments}). */
function decodeInto(
  bytes: Uint8Array,
  into: SetEnvoyFilterStateArguments,
): boolean {
  const reader = new Reader(bytes);
  into.path = "";
  into.value = "";
  into.span = 0;
  while (!reader.done) {
    if (!reader.tag() || reader.wireType === 4) return false;
    const field = reader.field;
    const wireType = reader.wireType;
    if ((field === 1 || field === 2) && wireType === 2) {
      const length = reader.length();
      if (length < 0) return false;
      const start = reader.offset;
      reader.offset += length;
      const text = decodeStrict(bytes, start, reader.offset);
      if (text === undefined) return false;
      if (field === 1) into.path = text;
      else into.value = text;
    } else if (field === 3 && wireType === 0) {
      if (!reader.varint()) return false;
      into.span = reader.low | 0; // an int32 enum: the low 32 bits, signed
    } else if (!skip(reader, field, wireType)) {
      return false;
    }
  }
  return true;
}

/**
 * Parses the protobuf bytes as Envoy's C++ `ParseFromArray` would for this
 * proto3 message: unknown fields are skipped, malformed bytes and invalid UTF-8
 * in a string field fail (undefined).
 *
 * @example
 * ```ts
 * import { decodeSetEnvoyFilterStateArguments } from "./foreign.ts";
 * const bytes = new Uint8Array([0x0a, 1, 0x61, 0x12, 1, 0x62, 0x18, 2]);
 * decodeSetEnvoyFilterStateArguments(bytes); // { path: "a", value: "b", span: 2 }
 * ```
 */
export function decodeSetEnvoyFilterStateArguments(
  bytes: Uint8Array,
): SetEnvoyFilterStateArguments | undefined {
  const decoded = { path: "", value: "", span: 0 };
  return decodeInto(bytes, decoded) ? decoded : undefined;
}

/**
 * Encodes the arguments (handy for tests and tools; the inverse of
 * {@link decodeSetEnvoyFilterStateArguments}).
 */
export function encodeSetEnvoyFilterStateArguments(
  args: SetEnvoyFilterStateArguments,
): Uint8Array {
  const out: number[] = [];
  const varint = (value: number) => {
    let v = value >>> 0;
    while (v > 0x7f) {
      out.push((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    out.push(v);
  };
  const string = (field: number, text: string) => {
    if (text === "") return;
    const bytes = new TextEncoder().encode(text);
    out.push((field << 3) | 2);
    varint(bytes.length);
    out.push(...bytes);
  };
  string(1, args.path);
  string(2, args.value);
  if (args.span !== 0) {
    out.push(3 << 3);
    varint(args.span);
  }
  return new Uint8Array(out);
}

const unsigned = (max: bigint) => (value: string) => {
  const match = /^\s*\+?([0-9]+)\s*$/.exec(value);
  return match !== null && BigInt(match[1]) <= max;
};
const anyValue = () => true;

/**
 * Filter-state keys with an object factory in Envoy (1.28+), each with the
 * check its `createFromBytes` makes. {@link TCP_PROXY_CLUSTER_KEY} is what
 * tcp_proxy reads to override its cluster.
 */
export const FILTER_STATE_KEYS: ReadonlyMap<
  string,
  (value: string) => boolean
> = new Map([
  [TCP_PROXY_CLUSTER_KEY, anyValue],
  ["envoy.network.upstream_server_name", anyValue],
  ["envoy.upstream.dynamic_host", anyValue],
  ["envoy.upstream.dynamic_port", unsigned(0xffffffffn)],
  [
    "envoy.tcp_proxy.per_connection_idle_timeout_ms",
    unsigned(0xffffffffffffffffn),
  ],
  ["envoy.string", anyValue],
]);

/** Outcome of a foreign function: a WasmResult and, when Ok, optional output bytes. */
export interface ForeignOutcome {
  result: number;
  output?: Uint8Array;
}

/**
 * Where `set_envoy_filter_state` writes: the calling context's filter state,
 * or undefined in a context without a connection (the root), where Envoy
 * answers NotFound.
 */
export type FilterStateSink = Map<string, string> | undefined;

/** The arguments of the call being answered (one call runs at a time). */
const scratch: SetEnvoyFilterStateArguments = { path: "", value: "", span: 0 };

/**
 * Runs `set_envoy_filter_state` as Envoy does and answers its WasmResult:
 * BadArgument for bytes that do not parse, NotFound for a key without a
 * factory (or no connection), BadArgument for a value the key's factory
 * refuses, else Ok and stored.
 */
export function setEnvoyFilterState(
  args: Uint8Array,
  sink: FilterStateSink,
): number {
  if (!decodeInto(args, scratch)) return WasmResult.BadArgument;
  const accepts = FILTER_STATE_KEYS.get(scratch.path);
  if (accepts === undefined) return WasmResult.NotFound;
  if (!accepts(scratch.value)) return WasmResult.BadArgument;
  if (sink === undefined) return WasmResult.NotFound;
  sink.set(scratch.path, scratch.value);
  return WasmResult.Ok;
}

/** zlib `compress` of the arguments. */
export function compress(args: Uint8Array): ForeignOutcome {
  return { result: WasmResult.Ok, output: new Uint8Array(deflateSync(args)) };
}

/** zlib `uncompress` of the arguments; SerializationFailure when they are not zlib data. */
export function uncompress(args: Uint8Array): ForeignOutcome {
  try {
    return { result: WasmResult.Ok, output: new Uint8Array(inflateSync(args)) };
  } catch {
    return { result: WasmResult.SerializationFailure };
  }
}
