/**
 * `proxy_get_property` as Envoy answers it for a network filter: the path is a
 * list of NUL-separated segments (`"source\0address"`); a dotted path is one
 * unknown segment. Strings come back as raw bytes, ports as int64 and ids as
 * uint64 (8 bytes, little-endian), booleans as one byte. A map-valued path
 * (`"source"`) cannot be serialized (Envoy's `SerializationFailure`); an
 * unknown one is `NotFound`.
 *
 * @module
 */
import { WasmResult } from "./abi.ts";
import { utf8 } from "./memory.ts";
import type { ConnectionFacts, PluginFacts } from "./types.ts";

/** Result of a property lookup: a WasmResult and, when Ok, the bytes. */
export interface PropertyAnswer {
  result: number;
  value?: Uint8Array;
}

const NOT_FOUND: PropertyAnswer = { result: WasmResult.NotFound };
const NOT_SERIALIZABLE: PropertyAnswer = {
  result: WasmResult.SerializationFailure,
};

/** The port of `ip:port` or `[ipv6]:port`, or undefined when there is none. */
export function portOfAddress(address: string): number | undefined {
  const match = /^(?:\[[^\]]*\]|[^:\[\]]*):([0-9]{1,5})$/.exec(address);
  if (!match) return undefined;
  const port = Number(match[1]);
  return port <= 65535 ? port : undefined;
}

/** Eight little-endian bytes of a signed or unsigned 64-bit integer. */
export function int64Bytes(value: bigint | number): Uint8Array {
  const bytes = new Uint8Array(8);
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) {
    for (let i = 0; i < 7; i++) {
      bytes[i] = value % 256;
      value = Math.floor(value / 256);
    }
    return bytes;
  }
  let rest = BigInt.asUintN(64, BigInt(value));
  for (let i = 0; i < 8; i++) {
    bytes[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return bytes;
}

/**
 * A property's value, or the WasmResult refusing it (a number). Text values
 * stay strings, so that the caller can write them into the module as UTF-8
 * without an array between.
 */
export type PropertyValue = string | Uint8Array | number;

const SERIALIZATION_FAILURE: number = WasmResult.SerializationFailure;
const MISSING: number = WasmResult.NotFound;

function peer(address: string, field: string | undefined): PropertyValue {
  if (field === undefined) return SERIALIZATION_FAILURE;
  if (field === "address") return address;
  if (field === "port") {
    const port = portOfAddress(address);
    return port === undefined ? MISSING : int64Bytes(port);
  }
  return MISSING;
}

function connection(
  facts: ConnectionFacts,
  field: string | undefined,
): PropertyValue {
  switch (field) {
    case undefined:
      return SERIALIZATION_FAILURE;
    case "id":
      return int64Bytes(facts.connectionId);
    case "mtls":
      return new Uint8Array([0]);
    case "requested_server_name":
      return "";
    default:
      return MISSING;
  }
}

/** A value that has no fields: a path going deeper is NotFound. */
function whole(value: Uint8Array, field: string | undefined): PropertyValue {
  return field === undefined ? value : MISSING;
}

/**
 * The value of a property path (the NUL-separated segments) for a context, as
 * {@link getProperty} answers it: `facts` is undefined for the root context.
 */
export function propertyValue(
  path: string,
  plugin: PluginFacts,
  facts: ConnectionFacts | undefined,
): PropertyValue {
  if (path.length === 0) return MISSING;
  // A trailing NUL ends the path; every value this host knows is at most two levels deep.
  if (path.charCodeAt(path.length - 1) === 0) path = path.slice(0, -1);
  if (facts !== undefined) {
    // The paths a filter reads on every connection, without cutting the path.
    if (path === "source\0address") return facts.source;
    if (path === "destination\0address") return facts.destination;
  }
  const cut = path.indexOf("\0");
  const top = cut < 0 ? path : path.slice(0, cut);
  const field = cut < 0 ? undefined : path.slice(cut + 1);
  if (field !== undefined && field.includes("\0")) return MISSING;
  switch (top) {
    case "plugin_root_id":
      return whole(plugin.rootId, field);
    case "plugin_name":
      return whole(plugin.pluginName, field);
    case "plugin_vm_id":
      return whole(plugin.vmId, field);
  }
  if (facts === undefined) return MISSING;
  switch (top) {
    case "source":
      return peer(facts.source, field);
    case "destination":
      return peer(facts.destination, field);
    case "connection":
      return connection(facts, field);
    case "connection_id":
      return whole(int64Bytes(facts.connectionId), field);
  }
  const custom = facts.custom.get(top);
  return custom === undefined ? MISSING : whole(custom, field);
}

/**
 * Answers a property path (raw bytes of the NUL-separated segments) for a
 * context: `facts` is undefined for the root context, which has no connection.
 *
 * @example
 * ```ts
 * import { getProperty } from "./properties.ts";
 * import { utf8 } from "./memory.ts";
 * const plugin = { rootId: utf8("r"), pluginName: utf8(""), vmId: utf8("") };
 * const facts = { source: "10.0.0.3:5555", destination: "10.96.0.1:443", connectionId: 7n, custom: new Map() };
 * getProperty("source\0port", plugin, facts).value; // 8 bytes: 5555 little-endian
 * getProperty("source.address", plugin, facts).result; // 1 (NotFound)
 * ```
 */
export function getProperty(
  path: string,
  plugin: PluginFacts,
  facts: ConnectionFacts | undefined,
): PropertyAnswer {
  const value = propertyValue(path, plugin, facts);
  if (typeof value === "number") {
    return value === MISSING ? NOT_FOUND : NOT_SERIALIZABLE;
  }
  return {
    result: WasmResult.Ok,
    value: typeof value === "string" ? utf8(value) : value,
  };
}
