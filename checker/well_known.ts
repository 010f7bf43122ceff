/**
 * The well-known types with a JSON form of their own (Duration "1s", wrappers
 * as bare values, Struct…), `google.protobuf.Any` resolved through its
 * `@type` URL, and `TypedStruct` checked against its `type_url`.
 *
 * @module
 */
import protobuf from "protobufjs";
import { ENVOY_API_SOURCE, lookupDefinition, typeName } from "./envoy_api.ts";
import type { IssueLog, Segment } from "./issues.ts";
import { describe, isObject } from "./json_values.ts";
import { checkScalar } from "./scalars.ts";

/** The well-known types whose JSON is not an object of their fields. */
export const SPECIAL_JSON = new Set([
  "google.protobuf.Any",
  "google.protobuf.Duration",
  "google.protobuf.Timestamp",
  "google.protobuf.FieldMask",
  "google.protobuf.Struct",
  "google.protobuf.ListValue",
  "google.protobuf.Value",
  "google.protobuf.Empty",
  "google.protobuf.DoubleValue",
  "google.protobuf.FloatValue",
  "google.protobuf.Int64Value",
  "google.protobuf.UInt64Value",
  "google.protobuf.Int32Value",
  "google.protobuf.UInt32Value",
  "google.protobuf.BoolValue",
  "google.protobuf.StringValue",
  "google.protobuf.BytesValue",
]);

/** The wrapper types, by the scalar they wrap. */
export const WRAPPERS: Record<string, string> = {
  "google.protobuf.DoubleValue": "double",
  "google.protobuf.FloatValue": "float",
  "google.protobuf.Int64Value": "int64",
  "google.protobuf.UInt64Value": "uint64",
  "google.protobuf.Int32Value": "int32",
  "google.protobuf.UInt32Value": "uint32",
  "google.protobuf.BoolValue": "bool",
  "google.protobuf.StringValue": "string",
  "google.protobuf.BytesValue": "bytes",
};

/** A Duration's JSON form: seconds with up to nine decimals and an `s`. */
export const DURATION = /^-?\d+(\.\d{1,9})?s$/;

const TYPED_STRUCTS = new Set([
  "udpa.type.v1.TypedStruct",
  "xds.type.v3.TypedStruct",
]);

/** What these checks need from the walk over messages: the walk itself, to recurse. */
export interface MessageWalk {
  readonly log: IssueLog;
  /** Checks `value` as the JSON form of a message of `type`. */
  message(type: protobuf.Type, value: unknown, at: Segment[]): void;
}

/** Checks `value` as the JSON form of the well-known type `name`. */
export function checkWellKnown(
  walk: MessageWalk,
  name: string,
  value: unknown,
  at: Segment[],
): void {
  const log = walk.log;
  switch (name) {
    case "google.protobuf.Any":
      return checkAny(walk, value, at);
    case "google.protobuf.Duration":
      if (typeof value !== "string" || !DURATION.test(value)) {
        log.error(
          at,
          `expected a duration like "1s" or "0.25s", got ${describe(value)}`,
        );
      }
      return;
    case "google.protobuf.Timestamp":
      if (typeof value !== "string" || Number.isNaN(Date.parse(value))) {
        log.error(at, `expected an RFC 3339 timestamp, got ${describe(value)}`);
      }
      return;
    case "google.protobuf.FieldMask":
      if (typeof value !== "string") {
        log.error(at, `expected a field mask string, got ${describe(value)}`);
      }
      return;
    case "google.protobuf.Struct":
      if (!isObject(value)) {
        log.error(at, `expected an object, got ${describe(value)}`);
      }
      return;
    case "google.protobuf.ListValue":
      if (!Array.isArray(value)) {
        log.error(at, `expected a list, got ${describe(value)}`);
      }
      return;
    case "google.protobuf.Value":
      return;
    case "google.protobuf.Empty":
      if (!isObject(value) || Object.keys(value).length > 0) {
        log.error(at, `expected {}, got ${describe(value)}`);
      }
      return;
    default:
      if (WRAPPERS[name]) checkScalar(log, WRAPPERS[name], value, at, {});
  }
}

/** `google.protobuf.Any`: `@type` must name a known message; the rest is checked against it. */
export function checkAny(
  walk: MessageWalk,
  value: unknown,
  at: Segment[],
): void {
  const log = walk.log;
  if (!isObject(value)) {
    return log.error(
      at,
      `expected an object with "@type", got ${describe(value)}`,
    );
  }
  const url = value["@type"];
  if (typeof url !== "string") {
    return log.error(at, `missing "@type" (a type URL) in google.protobuf.Any`);
  }
  const type = typeFromUrl(log, url, [...at, "@type"]);
  if (!type) return;
  const rest = Object.fromEntries(
    Object.entries(value).filter(([key]) => key !== "@type"),
  );
  const name = typeName(type);
  if (SPECIAL_JSON.has(name)) {
    const extra = Object.keys(rest).filter((key) => key !== "value");
    for (const key of extra) {
      log.error(
        [...at, key],
        `unknown field "${key}" in ${name} (it takes only "value")`,
      );
    }
    if (!("value" in rest)) return log.error(at, `missing "value" for ${name}`);
    checkWellKnown(walk, name, rest.value, [...at, "value"]);
    return;
  }
  walk.message(type, rest, at);
  if (TYPED_STRUCTS.has(name)) checkTypedStruct(walk, rest, at);
}

/** `TypedStruct`: its `value` is the JSON of the message its `type_url` names. */
function checkTypedStruct(
  walk: MessageWalk,
  value: Record<string, unknown>,
  at: Segment[],
): void {
  const url = value.type_url ?? value.typeUrl;
  if (typeof url !== "string") return;
  const type = typeFromUrl(walk.log, url, [
    ...at,
    "type_url" in value ? "type_url" : "typeUrl",
  ]);
  if (!type || value.value === undefined || value.value === null) return;
  walk.message(type, value.value, [...at, "value"]);
}

/** The message a type URL names; an issue at `at` when there is none. */
export function typeFromUrl(
  log: IssueLog,
  url: string,
  at: Segment[],
): protobuf.Type | undefined {
  const slash = url.lastIndexOf("/");
  if (slash < 0) {
    log.error(
      at,
      `type URL "${url}" has no "/" (expected type.googleapis.com/<message name>)`,
    );
    return undefined;
  }
  const type = lookupDefinition(url.slice(slash + 1));
  if (!(type instanceof protobuf.Type)) {
    log.error(
      at,
      `unknown type URL "${url}": no such message in Envoy's v3 API (${ENVOY_API_SOURCE})`,
    );
    return undefined;
  }
  return type;
}
