/**
 * The foreign functions Envoy registers that matter to a network filter:
 * `set_envoy_filter_state` (protobuf arguments, known filter-state keys only),
 * `compress` and `uncompress` (zlib). Any other name is `NotFound`.
 *
 * @module
 */
import { deflateSync, inflateSync } from "node:zlib";
import { WasmResult } from "./abi.ts";

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

/** UTF-8 text, or undefined when the bytes are not valid UTF-8 (proto3 strings must be). */
function decodeStrict(bytes: Uint8Array): string | undefined {
  let ascii = true;
  for (let i = 0; i < bytes.length && ascii; i++) ascii = bytes[i] < 0x80;
  if (ascii && bytes.length <= 64) {
    return String.fromCharCode.apply(null, bytes as unknown as number[]);
  }
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

class Reader {
  offset = 0;
  constructor(readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.offset >= this.bytes.length;
  }

  /** A varint as bigint (at most 10 bytes), or undefined when malformed. */
  varint(): bigint | undefined {
    // Fast path: one or two bytes, the common case for tags and lengths.
    const first = this.bytes[this.offset];
    if (first !== undefined && first < 0x80) {
      this.offset++;
      return BigInt(first);
    }
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.offset >= this.bytes.length) return undefined;
      const byte = this.bytes[this.offset++];
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) {
        return shift === 63n && byte > 1 ? undefined : result;
      }
    }
    return undefined;
  }

  take(length: number): Uint8Array | undefined {
    if (length < 0 || this.offset + length > this.bytes.length) {
      return undefined;
    }
    const slice = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return slice;
  }
}

/** Skips one field's payload; false when malformed. */
function skip(reader: Reader, field: number, wireType: number): boolean {
  switch (wireType) {
    case 0:
      return reader.varint() !== undefined;
    case 1:
      return reader.take(8) !== undefined;
    case 5:
      return reader.take(4) !== undefined;
    case 2: {
      const length = reader.varint();
      return length !== undefined && length <= 0x7fffffffn &&
        reader.take(Number(length)) !== undefined;
    }
    case 3:
      // A group: fields until the matching end-group tag.
      while (!reader.done) {
        const tag = readTag(reader);
        if (tag === undefined) return false;
        if (tag.wireType === 4) return tag.field === field;
        if (!skip(reader, tag.field, tag.wireType)) return false;
      }
      return false;
    default:
      return false;
  }
}

function readTag(
  reader: Reader,
): { field: number; wireType: number } | undefined {
  const tag = reader.varint();
  if (tag === undefined || tag > 0xffffffffn) return undefined;
  const field = Number(tag >> 3n);
  if (field === 0) return undefined;
  return { field, wireType: Number(tag & 7n) };
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
    const tag = readTag(reader);
    if (
      tag === undefined || tag.wireType === 4 ||
      !skip(reader, tag.field, tag.wireType)
    ) return false;
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
  const reader = new Reader(bytes);
  const decoded: SetEnvoyFilterStateArguments = {
    path: "",
    value: "",
    span: 0,
  };
  while (!reader.done) {
    const tag = readTag(reader);
    if (tag === undefined || tag.wireType === 4) return undefined;
    const { field, wireType } = tag;
    if ((field === 1 || field === 2) && wireType === 2) {
      const length = reader.varint();
      if (length === undefined || length > 0x7fffffffn) return undefined;
      const payload = reader.take(Number(length));
      if (payload === undefined) return undefined;
      const text = decodeStrict(payload);
      if (text === undefined) return undefined;
      if (field === 1) decoded.path = text;
      else decoded.value = text;
    } else if (field === 3 && wireType === 0) {
      const span = reader.varint();
      if (span === undefined) return undefined;
      decoded.span = Number(BigInt.asIntN(32, span));
    } else if (!skip(reader, field, wireType)) {
      return undefined;
    }
  }
  return decoded;
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
 * What `set_envoy_filter_state` needs from the calling context: a filter
 * state to write, or undefined in a context without a connection (the root),
 * where Envoy answers NotFound.
 */
export type FilterStateSink =
  | ((key: string, value: string, span: number) => void)
  | undefined;

/**
 * Runs `set_envoy_filter_state` as Envoy does: BadArgument for bytes that do
 * not parse, NotFound for a key without a factory (or no connection),
 * BadArgument for a value the key's factory refuses, else Ok and stored.
 */
export function setEnvoyFilterState(
  args: Uint8Array,
  sink: FilterStateSink,
): ForeignOutcome {
  const decoded = decodeSetEnvoyFilterStateArguments(args);
  if (decoded === undefined) return { result: WasmResult.BadArgument };
  const accepts = FILTER_STATE_KEYS.get(decoded.path);
  if (accepts === undefined) return { result: WasmResult.NotFound };
  if (!accepts(decoded.value)) return { result: WasmResult.BadArgument };
  if (sink === undefined) return { result: WasmResult.NotFound };
  sink(decoded.path, decoded.value, decoded.span);
  return { result: WasmResult.Ok };
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
