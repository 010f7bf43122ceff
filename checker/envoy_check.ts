/**
 * Checks Envoy configuration against Envoy's own v3 API (the protos shipped in
 * npm `@grpc/grpc-js-xds`, pre-built into `envoy_check_api.generated.ts`), the
 * way Envoy's proto3-JSON loader and protoc-gen-validate would see it:
 *
 * - unknown fields (snake_case or lowerCamelCase accepted, as Envoy does),
 *   wrong types, bad enum names, numbers out of range;
 * - `google.protobuf.Any` (`typed_config`, the wasm `configuration`…) resolved
 *   through its `@type` URL and checked recursively; an unknown URL is an error;
 *   `udpa.type.v1.TypedStruct` / `xds.type.v3.TypedStruct` values are checked
 *   against their `type_url`;
 * - the common protoc-gen-validate rules: required oneofs and messages, string
 *   lengths, numeric and duration bounds, repeated item counts;
 * - a few checks Envoy makes when it loads a bootstrap: a terminal network
 *   filter (tcp_proxy…) must be last in its chain, cluster names are unique,
 *   tcp_proxy clusters exist, and the flagship filter's configuration parses.
 *
 * Every issue names the YAML path, e.g.
 * `static_resources.listeners[0].filter_chains[0].filters[0].typed_config.config.vm_config.runtime`.
 *
 * @example
 * ```ts
 * import { checkEnvoyBootstrap, checkEnvoyMessage } from "./envoy_check.ts";
 * const issues = checkEnvoyBootstrap(await Deno.readTextFile("envoy.yaml"));
 * checkEnvoyMessage("type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm", { config: {} });
 * ```
 */
import protobuf from "protobufjs";
import {
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseAllDocuments,
} from "yaml";
import { ENVOY_API_JSON, ENVOY_API_SOURCE } from "./envoy_api.generated.ts";
import { parseFilterConfig, ROOT_ID } from "../lib/routing.ts";

export { ENVOY_API_SOURCE };

/** One problem found, with where it is. */
export interface CheckIssue {
  /** YAML path, e.g. `static_resources.clusters[1].name` ("" for the document itself). */
  path: string;
  /** What is wrong. */
  message: string;
  /** Errors make Envoy reject the config; warnings are worth knowing (deprecated fields…). */
  severity: "error" | "warning";
  /** 1-based line in the YAML text, when the check had the text. */
  line?: number;
  /** 1-based column in the YAML text, when the check had the text. */
  column?: number;
}

/** The full name of Envoy's bootstrap message. */
export const BOOTSTRAP_TYPE = "envoy.config.bootstrap.v3.Bootstrap";

/** One step of a path into a message: a field name or a list index. */
export type Segment = string | number;

let api: protobuf.Root | undefined;

/** Envoy's API, loaded once (about 0.1 s). */
export function envoyApi(): protobuf.Root {
  if (!api) {
    api = protobuf.Root.fromJSON(JSON.parse(ENVOY_API_JSON));
    api.resolveAll();
  }
  return api;
}

/** Renders path segments the way the messages show them. */
export function formatPath(segments: readonly Segment[]): string {
  let out = "";
  for (const segment of segments) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(segment)) {
      out += out === "" ? segment : `.${segment}`;
    } else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

interface RawIssue {
  segments: Segment[];
  message: string;
  severity: "error" | "warning";
}

class Checker {
  readonly issues: RawIssue[] = [];
  constructor(readonly root: protobuf.Root) {}

  error(segments: Segment[], message: string): void {
    this.issues.push({ segments, message, severity: "error" });
  }

  warn(segments: Segment[], message: string): void {
    this.issues.push({ segments, message, severity: "warning" });
  }

  /** Finds a message or enum by full name (with or without the leading dot). */
  lookup(name: string): protobuf.Type | protobuf.Enum | undefined {
    const found = this.root.lookup(name.startsWith(".") ? name : `.${name}`);
    return found instanceof protobuf.Type || found instanceof protobuf.Enum
      ? found
      : undefined;
  }

  /** Checks `value` as the JSON form of a message of `type`. */
  message(type: protobuf.Type, value: unknown, at: Segment[]): void {
    const name = typeName(type);
    if (SPECIAL_JSON.has(name)) return this.wellKnown(name, value, at);
    if (!isObject(value)) {
      return this.error(
        at,
        `expected an object (${name}), got ${describe(value)}`,
      );
    }
    const byJsonName = new Map<string, protobuf.Field>();
    for (const field of type.fieldsArray) {
      byJsonName.set(field.name, field);
      byJsonName.set(camel(field.name), field);
    }
    const seen = new Map<protobuf.Field, string>();
    for (const [key, fieldValue] of Object.entries(value)) {
      const field = byJsonName.get(key);
      if (!field) {
        const guess = closest(
          key,
          type.fieldsArray.map((candidate) => candidate.name),
        );
        this.error(
          [...at, key],
          `unknown field "${key}" in ${name}${
            guess ? ` (did you mean "${guess}"?)` : ""
          }`,
        );
        continue;
      }
      if (seen.has(field)) {
        this.error(
          [...at, key],
          `field "${field.name}" is given twice (as "${
            seen.get(field)
          }" and "${key}")`,
        );
        continue;
      }
      seen.set(field, key);
      if (
        fieldValue === null &&
        typeName(field.resolvedType) !== "google.protobuf.Value"
      ) continue;
      if (field.options?.["(envoy.annotations.disallowed_by_default)"]) {
        this.error(
          [...at, key],
          `field "${field.name}" of ${name} is deprecated and disallowed by default`,
        );
      } else if (field.options?.deprecated) {
        this.warn(
          [...at, key],
          `field "${field.name}" of ${name} is deprecated`,
        );
      }
      this.field(field, fieldValue, [...at, key]);
    }
    this.oneofs(type, value, seen, at);
    this.requiredAndDefaults(type, seen, at);
    if (name === "envoy.extensions.wasm.v3.VmConfig") {
      this.vmConfig(value, seen, at);
    }
    if (name === "envoy.extensions.wasm.v3.PluginConfig") {
      this.pluginConfig(value, seen, at);
    }
  }

  /** Envoy refuses a runtime it was not built with; the official images have V8. */
  vmConfig(
    value: Record<string, unknown>,
    seen: Map<protobuf.Field, string>,
    at: Segment[],
  ): void {
    const key = [...seen.entries()].find(([field]) => field.name === "runtime")
      ?.[1];
    const runtime = key === undefined ? undefined : value[key];
    if (typeof runtime !== "string") return;
    if (!WASM_RUNTIMES.includes(runtime)) {
      this.error(
        [...at, key!],
        `unknown Wasm runtime "${runtime}" (Envoy knows ${
          WASM_RUNTIMES.join(", ")
        }; its official images ship ` +
          `envoy.wasm.runtime.v8)`,
      );
    } else if (runtime !== "envoy.wasm.runtime.v8") {
      this.warn(
        [...at, key!],
        `the official Envoy images ship only envoy.wasm.runtime.v8, not ${runtime}`,
      );
    }
  }

  /** The flagship filter's configuration (root id ROOT_ID) must parse the way the filter parses it. */
  pluginConfig(
    value: Record<string, unknown>,
    seen: Map<protobuf.Field, string>,
    at: Segment[],
  ): void {
    const keyOf = (name: string) =>
      [...seen.entries()].find(([field]) => field.name === name)?.[1];
    const rootKey = keyOf("root_id"), configurationKey = keyOf("configuration");
    if (
      rootKey === undefined || value[rootKey] !== ROOT_ID ||
      configurationKey === undefined
    ) return;
    const configuration = value[configurationKey];
    if (urlName(configuration) !== "google.protobuf.StringValue") return;
    const text = get(configuration, "value");
    if (typeof text !== "string") return;
    try {
      parseFilterConfig(text);
    } catch (error) {
      this.error([...at, configurationKey, "value"], (error as Error).message);
    }
  }

  /** Oneof rules: at most one member set; one required when `(validate.required)`. */
  oneofs(
    type: protobuf.Type,
    value: Record<string, unknown>,
    seen: Map<protobuf.Field, string>,
    at: Segment[],
  ) {
    for (const oneof of type.oneofsArray) {
      const set = oneof.fieldsArray.filter((field) =>
        seen.has(field) && value[seen.get(field)!] !== null
      );
      if (set.length > 1) {
        this.error(
          [...at, seen.get(set[1])!],
          `only one of ${
            oneof.fieldsArray.map((field) => field.name).join(", ")
          } may be set (${set.map((field) => field.name).join(" and ")} are)`,
        );
      }
      if (set.length === 0 && oneof.options?.["(validate.required)"] === true) {
        this.error(
          at,
          `${typeName(type)} needs one of ${
            oneof.fieldsArray.map((field) => field.name).join(", ")
          }`,
        );
      }
    }
  }

  /** Rules that also bind absent fields: required messages, min lengths, min items, bounds on 0. */
  requiredAndDefaults(
    type: protobuf.Type,
    seen: Map<protobuf.Field, string>,
    at: Segment[],
  ) {
    for (const field of type.fieldsArray) {
      if (seen.has(field) || field.partOf) continue;
      const rules = rulesOf(field);
      const message = field.resolvedType instanceof protobuf.Type;
      const required = rules["message.required"] === true ||
        rules["any.required"] === true ||
        rules["duration.required"] === true ||
        rules["timestamp.required"] === true;
      if (required) {
        this.error(
          at,
          `missing required field "${field.name}" in ${typeName(type)}`,
        );
        continue;
      }
      if (field.map || field.repeated) {
        const min = Number(
          rules["repeated.min_items"] ?? rules["map.min_pairs"] ?? 0,
        );
        if (min > 0) {
          this.error(
            at,
            `missing field "${field.name}" in ${
              typeName(type)
            }: needs at least ${min} item(s)`,
          );
        }
        continue;
      }
      if (message) continue;
      if (field.type === "string" || field.type === "bytes") {
        const min = Number(
          rules["string.min_len"] ?? rules["string.min_bytes"] ??
            rules["bytes.min_len"] ?? 0,
        );
        if (min > 0 && rules["string.ignore_empty"] !== true) {
          this.error(
            at,
            `missing required field "${field.name}" in ${typeName(type)}`,
          );
        }
      } else if (field.type in NUMERIC) {
        const problem = boundProblem(0, rules, field.type);
        if (problem) {
          this.error(
            at,
            `missing field "${field.name}" in ${
              typeName(type)
            }: its default 0 ${problem}`,
          );
        }
      } else if (field.resolvedType instanceof protobuf.Enum) {
        if (
          rules["enum.defined_only"] === true &&
          !Object.values(field.resolvedType.values).includes(0)
        ) {
          this.error(
            at,
            `missing required field "${field.name}" in ${typeName(type)}`,
          );
        }
      }
    }
  }

  /** One field's value: repeated, map or single. */
  field(field: protobuf.Field, value: unknown, at: Segment[]): void {
    const rules = rulesOf(field);
    if (field instanceof protobuf.MapField || field.map) {
      if (!isObject(value)) {
        return this.error(at, `expected a map, got ${describe(value)}`);
      }
      const entries = Object.entries(value);
      const min = Number(rules["map.min_pairs"] ?? 0);
      if (entries.length < min) {
        this.error(at, `needs at least ${min} entr${min === 1 ? "y" : "ies"}`);
      }
      const keyType = (field as unknown as protobuf.MapField).keyType;
      for (const [key, item] of entries) {
        if (
          keyType !== "string" && keyType !== "bool" && !/^-?\d+$/.test(key)
        ) {
          this.error([...at, key], `map key "${key}" is not a ${keyType}`);
        }
        this.single(field, item, [...at, key], {});
      }
      return;
    }
    if (field.repeated) {
      if (!Array.isArray(value)) {
        return this.error(at, `expected a list, got ${describe(value)}`);
      }
      const min = Number(rules["repeated.min_items"] ?? 0);
      const max = rules["repeated.max_items"] === undefined
        ? Infinity
        : Number(rules["repeated.max_items"]);
      if (value.length < min) {
        this.error(at, `needs at least ${min} item(s), has ${value.length}`);
      }
      if (value.length > max) {
        this.error(at, `takes at most ${max} item(s), has ${value.length}`);
      }
      const itemRules = Object.fromEntries(
        Object.entries(rules).filter(([key]) =>
          key.startsWith("repeated.items.")
        )
          .map(([key, rule]) => [key.slice("repeated.items.".length), rule]),
      );
      value.forEach((item, index) =>
        this.single(field, item, [...at, index], itemRules)
      );
      return;
    }
    this.single(field, value, at, rules);
  }

  /** One value of a field's type, with that field's validate rules. */
  single(
    field: protobuf.Field,
    value: unknown,
    at: Segment[],
    rules: Record<string, unknown>,
  ): void {
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Type) {
      const name = typeName(resolved);
      if (WRAPPERS[name] && (value === null || !isObject(value))) {
        this.scalar(WRAPPERS[name], value, at, rules);
        return;
      }
      if (
        name === "google.protobuf.Duration" && typeof value === "string" &&
        DURATION.test(value)
      ) {
        const problem = durationProblem(value, rules);
        if (problem) this.error(at, `duration ${value} ${problem}`);
        return;
      }
      this.message(resolved, value, at);
      return;
    }
    if (resolved instanceof protobuf.Enum) {
      return this.enumValue(resolved, value, at, rules);
    }
    this.scalar(field.type, value, at, rules);
  }

  enumValue(
    type: protobuf.Enum,
    value: unknown,
    at: Segment[],
    rules: Record<string, unknown>,
  ): void {
    const names = Object.keys(type.values);
    if (typeof value === "string") {
      if (!(value in type.values)) {
        this.error(
          at,
          `"${value}" is not a value of ${typeName(type)} (expected one of ${
            listOf(names)
          })`,
        );
      }
    } else if (typeof value === "number" && Number.isInteger(value)) {
      if (
        rules["enum.defined_only"] === true &&
        !Object.values(type.values).includes(value)
      ) {
        this.error(
          at,
          `${value} is not a defined value of ${
            typeName(type)
          } (expected one of ${listOf(names)})`,
        );
      }
    } else {
      this.error(
        at,
        `expected an enum value of ${typeName(type)} (one of ${
          listOf(names)
        }), got ${describe(value)}`,
      );
    }
  }

  scalar(
    type: string,
    value: unknown,
    at: Segment[],
    rules: Record<string, unknown>,
  ): void {
    if (type === "string") {
      if (typeof value !== "string") {
        return this.error(at, `expected a string, got ${describe(value)}`);
      }
      if (value === "" && rules["string.ignore_empty"] === true) return;
      const min = Number(
        rules["string.min_len"] ?? rules["string.min_bytes"] ?? 0,
      );
      const max = rules["string.max_len"] ?? rules["string.max_bytes"];
      if ([...value].length < min) {
        this.error(at, `must be at least ${min} character(s) long`);
      }
      if (max !== undefined && [...value].length > Number(max)) {
        this.error(at, `must be at most ${max} character(s) long`);
      }
      return;
    }
    if (type === "bool") {
      if (typeof value !== "boolean") {
        this.error(at, `expected true or false, got ${describe(value)}`);
      }
      return;
    }
    if (type === "bytes") {
      if (
        typeof value !== "string" || !/^[A-Za-z0-9+/\-_]*={0,2}$/.test(value)
      ) {
        this.error(at, `expected base64-encoded bytes, got ${describe(value)}`);
      }
      return;
    }
    const kind = NUMERIC[type];
    if (!kind) return this.error(at, `unsupported scalar type ${type}`);
    if (kind === "float") {
      const ok = (typeof value === "number") ||
        (typeof value === "string" &&
          (/^(NaN|-?Infinity)$/.test(value) || isNumericText(value)));
      if (!ok) {
        return this.error(at, `expected a number, got ${describe(value)}`);
      }
      const problem = boundProblem(Number(value), rules, type);
      if (problem) this.error(at, `${value} ${problem}`);
      return;
    }
    let big: bigint;
    if (typeof value === "number" && Number.isInteger(value)) {
      big = BigInt(value);
    } else if (typeof value === "string" && /^-?\d+$/.test(value)) {
      big = BigInt(value);
    } else if (
      typeof value === "string" && isNumericText(value) &&
      Number.isInteger(Number(value))
    ) {
      big = BigInt(Number(value));
    } else {return this.error(
        at,
        `expected an integer (${type}), got ${describe(value)}`,
      );}
    const [low, high] = RANGES[kind];
    if (big < low || big > high) {
      return this.error(at, `${value} is out of range for ${type}`);
    }
    const problem = boundProblem(Number(big), rules, type);
    if (problem) this.error(at, `${value} ${problem}`);
  }

  /** Well-known types with their own JSON form. */
  wellKnown(name: string, value: unknown, at: Segment[]): void {
    switch (name) {
      case "google.protobuf.Any":
        return this.any(value, at);
      case "google.protobuf.Duration":
        if (typeof value !== "string" || !DURATION.test(value)) {
          this.error(
            at,
            `expected a duration like "1s" or "0.25s", got ${describe(value)}`,
          );
        }
        return;
      case "google.protobuf.Timestamp":
        if (typeof value !== "string" || Number.isNaN(Date.parse(value))) {
          this.error(
            at,
            `expected an RFC 3339 timestamp, got ${describe(value)}`,
          );
        }
        return;
      case "google.protobuf.FieldMask":
        if (typeof value !== "string") {
          this.error(
            at,
            `expected a field mask string, got ${describe(value)}`,
          );
        }
        return;
      case "google.protobuf.Struct":
        if (!isObject(value)) {
          this.error(at, `expected an object, got ${describe(value)}`);
        }
        return;
      case "google.protobuf.ListValue":
        if (!Array.isArray(value)) {
          this.error(at, `expected a list, got ${describe(value)}`);
        }
        return;
      case "google.protobuf.Value":
        return;
      case "google.protobuf.Empty":
        if (!isObject(value) || Object.keys(value).length > 0) {
          this.error(at, `expected {}, got ${describe(value)}`);
        }
        return;
      default:
        if (WRAPPERS[name]) return this.scalar(WRAPPERS[name], value, at, {});
    }
  }

  /** `google.protobuf.Any`: `@type` must name a known message; the rest is checked against it. */
  any(value: unknown, at: Segment[]): void {
    if (!isObject(value)) {
      return this.error(
        at,
        `expected an object with "@type", got ${describe(value)}`,
      );
    }
    const url = value["@type"];
    if (typeof url !== "string") {
      return this.error(
        at,
        `missing "@type" (a type URL) in google.protobuf.Any`,
      );
    }
    const type = this.typeFromUrl(url, [...at, "@type"]);
    if (!type) return;
    const rest = Object.fromEntries(
      Object.entries(value).filter(([key]) => key !== "@type"),
    );
    const name = typeName(type);
    if (SPECIAL_JSON.has(name)) {
      const extra = Object.keys(rest).filter((key) => key !== "value");
      for (const key of extra) {
        this.error(
          [...at, key],
          `unknown field "${key}" in ${name} (it takes only "value")`,
        );
      }
      if (!("value" in rest)) {
        return this.error(at, `missing "value" for ${name}`);
      }
      this.wellKnown(name, rest.value, [...at, "value"]);
      return;
    }
    this.message(type, rest, at);
    if (TYPED_STRUCTS.has(name)) this.typedStruct(rest, at);
  }

  /** `TypedStruct`: its `value` is the JSON of the message its `type_url` names. */
  typedStruct(value: Record<string, unknown>, at: Segment[]): void {
    const url = value.type_url ?? value.typeUrl;
    if (typeof url !== "string") return;
    const type = this.typeFromUrl(url, [
      ...at,
      "type_url" in value ? "type_url" : "typeUrl",
    ]);
    if (!type || value.value === undefined || value.value === null) return;
    this.message(type, value.value, [...at, "value"]);
  }

  typeFromUrl(url: string, at: Segment[]): protobuf.Type | undefined {
    const slash = url.lastIndexOf("/");
    if (slash < 0) {
      this.error(
        at,
        `type URL "${url}" has no "/" (expected type.googleapis.com/<message name>)`,
      );
      return undefined;
    }
    const type = this.lookup(url.slice(slash + 1));
    if (!(type instanceof protobuf.Type)) {
      this.error(
        at,
        `unknown type URL "${url}": no such message in Envoy's v3 API (${ENVOY_API_SOURCE})`,
      );
      return undefined;
    }
    return type;
  }
}

const SPECIAL_JSON = new Set([
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

const WRAPPERS: Record<string, string> = {
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

const WASM_RUNTIMES = [
  "envoy.wasm.runtime.v8",
  "envoy.wasm.runtime.wamr",
  "envoy.wasm.runtime.wasmtime",
  "envoy.wasm.runtime.wavm",
  "envoy.wasm.runtime.null",
];

const TYPED_STRUCTS = new Set([
  "udpa.type.v1.TypedStruct",
  "xds.type.v3.TypedStruct",
]);

const NUMERIC: Record<
  string,
  "int32" | "uint32" | "int64" | "uint64" | "float"
> = {
  int32: "int32",
  sint32: "int32",
  sfixed32: "int32",
  uint32: "uint32",
  fixed32: "uint32",
  int64: "int64",
  sint64: "int64",
  sfixed64: "int64",
  uint64: "uint64",
  fixed64: "uint64",
  double: "float",
  float: "float",
};

const RANGES: Record<string, [bigint, bigint]> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

const DURATION = /^-?\d+(\.\d{1,9})?s$/;

function typeName(type: protobuf.ReflectionObject | null | undefined): string {
  return type ? type.fullName.replace(/^\./, "") : "";
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isNumericText(text: string): boolean {
  return text.trim() !== "" && Number.isFinite(Number(text));
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") {
    return `the string ${
      JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value)
    }`;
  }
  return `${typeof value} ${String(value)}`;
}

function listOf(names: string[]): string {
  return names.length <= 8
    ? names.join(", ")
    : `${names.slice(0, 8).join(", ")}, …`;
}

function camel(name: string): string {
  return name.replace(
    /_([a-z0-9])/g,
    (_, letter: string) => letter.toUpperCase(),
  );
}

/** The protoc-gen-validate rules of a field, keyed without the `(validate.rules).` prefix. */
function rulesOf(field: protobuf.Field): Record<string, unknown> {
  const rules: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(field.options ?? {})) {
    if (key.startsWith("(validate.rules).")) {
      rules[key.slice("(validate.rules).".length)] = value;
    }
  }
  return rules;
}

/** A violated `gt`/`gte`/`lt`/`lte` bound of a numeric rule set, in words. */
function boundProblem(
  value: number,
  rules: Record<string, unknown>,
  type: string,
): string | undefined {
  const prefix = `${type}.`;
  const bound = (name: string) => {
    const raw = rules[prefix + name];
    return raw === undefined ? undefined : Number(raw);
  };
  const gt = bound("gt"),
    gte = bound("gte"),
    lt = bound("lt"),
    lte = bound("lte");
  if (gt !== undefined && !(value > gt)) return `must be greater than ${gt}`;
  if (gte !== undefined && !(value >= gte)) return `must be at least ${gte}`;
  if (lt !== undefined && !(value < lt)) return `must be less than ${lt}`;
  if (lte !== undefined && !(value <= lte)) return `must be at most ${lte}`;
  return undefined;
}

/** A violated duration bound (`duration.gt.seconds`, `duration.gte.nanos`…), in words. */
function durationProblem(
  text: string,
  rules: Record<string, unknown>,
): string | undefined {
  const nanos = (seconds: unknown, fraction: unknown) =>
    Number(seconds ?? 0) * 1e9 + Number(fraction ?? 0);
  const value = Number(text.slice(0, -1)) * 1e9;
  const bounds: [string, (limit: number) => boolean, string][] = [
    ["gt", (limit) => value > limit, "greater than"],
    ["gte", (limit) => value >= limit, "at least"],
    ["lt", (limit) => value < limit, "less than"],
    ["lte", (limit) => value <= limit, "at most"],
  ];
  for (const [name, ok, words] of bounds) {
    const seconds = rules[`duration.${name}.seconds`],
      fraction = rules[`duration.${name}.nanos`];
    if (seconds === undefined && fraction === undefined) continue;
    const limit = nanos(seconds, fraction);
    if (!ok(limit)) return `must be ${words} ${limit / 1e9}s`;
  }
  return undefined;
}

/** The most similar candidate, when it is close enough to be a typo. */
function closest(word: string, candidates: string[]): string | undefined {
  const target = word.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = levenshtein(target, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return bestDistance <= Math.max(2, Math.floor(target.length / 4))
    ? best
    : undefined;
}

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}

/** Network filters that end a chain; Envoy refuses a chain where one is not last. */
const TERMINAL_NETWORK_FILTERS: Record<string, string> = {
  "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy":
    "envoy.filters.network.tcp_proxy",
  "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager":
    "envoy.filters.network.http_connection_manager",
  "envoy.extensions.filters.network.redis_proxy.v3.RedisProxy":
    "envoy.filters.network.redis_proxy",
  "envoy.extensions.filters.network.echo.v3.Echo": "envoy.filters.network.echo",
  "envoy.extensions.filters.network.direct_response.v3.Config":
    "envoy.filters.network.direct_response",
  "envoy.extensions.filters.network.thrift_proxy.v3.ThriftProxy":
    "envoy.filters.network.thrift_proxy",
  "envoy.extensions.filters.network.dubbo_proxy.v3.DubboProxy":
    "envoy.filters.network.dubbo_proxy",
  "envoy.extensions.filters.network.sni_dynamic_forward_proxy.v3.FilterConfig":
    "envoy.filters.network.sni_dynamic_forward_proxy",
};

function urlName(value: unknown): string | undefined {
  if (!isObject(value) || typeof value["@type"] !== "string") return undefined;
  return value["@type"].slice(value["@type"].lastIndexOf("/") + 1);
}

function get(value: unknown, ...keys: string[]): unknown {
  if (!isObject(value)) return undefined;
  for (const key of keys) if (key in value) return value[key];
  return undefined;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Checks Envoy makes beyond the schema, on a bootstrap that already passed it. */
function lintBootstrap(
  checker: Checker,
  bootstrap: Record<string, unknown>,
): void {
  const staticResources = get(bootstrap, "static_resources", "staticResources");
  const clusters = asArray(get(staticResources, "clusters"));
  const names = new Map<string, number>();
  clusters.forEach((cluster, index) => {
    const name = get(cluster, "name");
    if (typeof name !== "string") return;
    if (names.has(name)) {
      checker.error(
        ["static_resources", "clusters", index, "name"],
        `cluster "${name}" is defined twice (also clusters[${
          names.get(name)
        }])`,
      );
    } else names.set(name, index);
  });
  const dynamicClusters = get(
    get(bootstrap, "dynamic_resources", "dynamicResources"),
    "cds_config",
    "cdsConfig",
  );
  asArray(get(staticResources, "listeners")).forEach((listener, l) => {
    const chainKey = isObject(listener) && "filterChains" in listener
      ? "filterChains"
      : "filter_chains";
    const chains = asArray(get(listener, "filter_chains", "filterChains")).map((
      chain,
      c,
    ) => ({
      chain,
      at: ["static_resources", "listeners", l, chainKey, c] as Segment[],
    }));
    const fallback = get(
      listener,
      "default_filter_chain",
      "defaultFilterChain",
    );
    if (fallback !== undefined) {
      chains.push({
        chain: fallback,
        at: ["static_resources", "listeners", l, "default_filter_chain"],
      });
    }
    for (const { chain, at } of chains) {
      const filters = asArray(get(chain, "filters"));
      lintSilentFilter(checker, filters, at);
      filters.forEach((filter, f) => {
        const typed = get(filter, "typed_config", "typedConfig");
        const type = urlName(typed);
        const where: Segment[] = [...at, "filters", f];
        if (
          type && TERMINAL_NETWORK_FILTERS[type] && f !== filters.length - 1
        ) {
          checker.error(
            where,
            `terminal filter ${
              TERMINAL_NETWORK_FILTERS[type]
            } must be the last filter in its chain ` +
              `(filters after it never run; Envoy rejects this)`,
          );
        }
        if (
          type === "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy" &&
          !dynamicClusters
        ) {
          const cluster = get(typed, "cluster");
          if (
            typeof cluster === "string" && cluster !== "" && !names.has(cluster)
          ) {
            checker.warn(
              [...where, "typed_config", "cluster"],
              `cluster "${cluster}" is not defined in static_resources.clusters`,
            );
          }
        }
      });
    }
  });
}

const WASM_NETWORK = "envoy.extensions.filters.network.wasm.v3.Wasm";
const TCP_PROXY = "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";

/**
 * Warnings for a chain where the wasm filter would load and silently do
 * nothing: tcp_proxy with weighted_clusters ignores the filter state, and a
 * root_id other than the filter's leaves its root context uncreated.
 */
function lintSilentFilter(
  checker: Checker,
  filters: unknown[],
  at: Segment[],
): void {
  const typed = (filter: unknown) => get(filter, "typed_config", "typedConfig");
  const wasm = filters.findIndex((filter) =>
    urlName(typed(filter)) === WASM_NETWORK
  );
  if (wasm < 0) return;
  const config = get(typed(filters[wasm]), "config");
  const rootId = get(config, "root_id", "rootId") ?? "";
  if (rootId !== ROOT_ID) {
    checker.warn(
      [...at, "filters", wasm, "typed_config", "config", "root_id"],
      `root_id is ${
        JSON.stringify(rootId)
      }, not "${ROOT_ID}", the root id the wasmerang filter registers: ` +
        "with it the wasmerang filter does nothing (fine for another filter)",
    );
  }
  filters.forEach((filter, f) => {
    if (urlName(typed(filter)) !== TCP_PROXY) return;
    const weighted = get(
      typed(filter),
      "weighted_clusters",
      "weightedClusters",
    );
    if (weighted !== undefined) {
      checker.warn(
        [...at, "filters", f, "typed_config", "weighted_clusters"],
        "tcp_proxy with weighted_clusters ignores the filter state envoy.tcp_proxy.cluster: " +
          "the wasm filter's choice has no effect (use cluster)",
      );
    }
  });
}

function finish(checker: Checker, base: Segment[] = []): CheckIssue[] {
  return checker.issues.map((issue) => ({
    path: formatPath([...base, ...issue.segments]),
    message: issue.message,
    severity: issue.severity,
  }));
}

/**
 * Checks `value` (a parsed YAML/JSON object) as a message of `typeUrlOrName`
 * (`envoy.config.listener.v3.Listener` or a full type URL). When it names an
 * `Any` (a `typed_config`), pass the object with its `@type`. Paths in the
 * issues start at `basePath` (e.g. the EnvoyFilter's YAML path).
 */
export function checkEnvoyMessage(
  typeUrlOrName: string,
  value: unknown,
  basePath: readonly Segment[] = [],
): CheckIssue[] {
  const checker = new Checker(envoyApi());
  const type = typeUrlOrName.includes("/")
    ? checker.typeFromUrl(typeUrlOrName, [])
    : checker.lookup(typeUrlOrName);
  if (!(type instanceof protobuf.Type)) {
    if (checker.issues.length === 0) {
      checker.error([], `unknown Envoy message ${typeUrlOrName}`);
    }
    return finish(checker, [...basePath]);
  }
  if (
    isObject(value) && typeof value["@type"] === "string" &&
    !SPECIAL_JSON.has(typeName(type))
  ) {
    checker.any(value, []);
  } else {
    checker.message(type, value, []);
  }
  return finish(checker, [...basePath]);
}

/**
 * Checks an Envoy bootstrap file (YAML or JSON text): the schema, then the
 * checks Envoy makes on load. Issues carry the line and column of the node.
 */
export function checkEnvoyBootstrap(text: string): CheckIssue[] {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, {
    lineCounter,
    merge: true,
    prettyErrors: false,
  });
  if (!Array.isArray(documents)) {
    return [{ path: "", message: "empty file", severity: "error" }];
  }
  if (documents.length !== 1) {
    return [{
      path: "",
      message: `expected one YAML document, found ${documents.length}`,
      severity: "error",
    }];
  }
  const document = documents[0];
  if (document.errors.length > 0) {
    return document.errors.map((problem) => {
      const position = lineCounter.linePos(problem.pos[0]);
      return {
        path: "",
        message: `YAML: ${problem.message.split("\n")[0]}`,
        severity: "error" as const,
        line: position.line,
        column: position.col,
      };
    });
  }
  const value = document.toJS({ maxAliasCount: 1000 });
  const checker = new Checker(envoyApi());
  checker.message(checker.lookup(BOOTSTRAP_TYPE) as protobuf.Type, value, []);
  if (
    checker.issues.every((issue) => issue.severity !== "error") &&
    isObject(value)
  ) lintBootstrap(checker, value);
  return checker.issues.map((issue) => {
    const node = deepestNode(document.contents, issue.segments);
    const position = node?.range
      ? lineCounter.linePos(node.range[0])
      : undefined;
    return {
      path: formatPath(issue.segments),
      message: issue.message,
      severity: issue.severity,
      ...(position ? { line: position.line, column: position.col } : {}),
    };
  });
}

/** The YAML node at `segments`, or the deepest one that exists on the way. */
function deepestNode(root: unknown, segments: Segment[]): Node | undefined {
  let node: unknown = root;
  let found: Node | undefined = isNode(root) ? root : undefined;
  for (const [index, segment] of segments.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((item) =>
        isPair(item) && isScalar(item.key) && item.key.value === segment
      );
      if (!pair) break;
      // A field's issue points at its key: the start of its line.
      if (
        isNode(pair.key) &&
        (index === segments.length - 1 || !isNode(pair.value))
      ) return pair.key;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number") {
      node = node.items[segment];
    } else break;
    if (isNode(node)) found = node;
    else break;
  }
  return found;
}

/** One line per issue: `file:line:col: error: path: message`. */
export function renderIssues(file: string, issues: CheckIssue[]): string {
  return issues.map((issue) => {
    const where = issue.line ? `${file}:${issue.line}:${issue.column}` : file;
    return `${where}: ${issue.severity}: ${
      issue.path ? `${issue.path}: ` : ""
    }${issue.message}`;
  }).join("\n");
}
