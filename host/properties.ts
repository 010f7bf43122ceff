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

function peer(address: string, field: string | undefined): PropertyAnswer {
  if (field === undefined) return NOT_SERIALIZABLE;
  if (field === "address") {
    return { result: WasmResult.Ok, value: utf8(address) };
  }
  if (field === "port") {
    const port = portOfAddress(address);
    return port === undefined
      ? NOT_FOUND
      : { result: WasmResult.Ok, value: int64Bytes(port) };
  }
  return NOT_FOUND;
}

function connection(
  facts: ConnectionFacts,
  field: string | undefined,
): PropertyAnswer {
  switch (field) {
    case undefined:
      return NOT_SERIALIZABLE;
    case "id":
      return { result: WasmResult.Ok, value: int64Bytes(facts.connectionId) };
    case "mtls":
      return { result: WasmResult.Ok, value: new Uint8Array([0]) };
    case "requested_server_name":
      return { result: WasmResult.Ok, value: new Uint8Array(0) };
    default:
      return NOT_FOUND;
  }
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
  if (path.length === 0) return NOT_FOUND;
  // A trailing NUL ends the path; every value this host knows is at most two levels deep.
  if (path.charCodeAt(path.length - 1) === 0) path = path.slice(0, -1);
  const cut = path.indexOf("\0");
  const top = cut < 0 ? path : path.slice(0, cut);
  const field = cut < 0 ? undefined : path.slice(cut + 1);
  if (field !== undefined && field.includes("\0")) return NOT_FOUND;
  const ok = (value: Uint8Array): PropertyAnswer =>
    field === undefined ? { result: WasmResult.Ok, value } : NOT_FOUND;
  switch (top) {
    case "plugin_root_id":
      return ok(plugin.rootId);
    case "plugin_name":
      return ok(plugin.pluginName);
    case "plugin_vm_id":
      return ok(plugin.vmId);
  }
  if (facts === undefined) return NOT_FOUND;
  switch (top) {
    case "source":
      return peer(facts.source, field);
    case "destination":
      return peer(facts.destination, field);
    case "connection":
      return connection(facts, field);
    case "connection_id":
      return ok(int64Bytes(facts.connectionId));
  }
  const custom = facts.custom.get(top);
  return custom === undefined ? NOT_FOUND : ok(custom);
}
