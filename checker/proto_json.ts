/**
 * The walk over a value as Envoy's proto3-JSON loader sees it: objects as
 * messages (snake_case or lowerCamelCase field names, as Envoy accepts),
 * lists and maps, scalars and enums, well-known types and `Any`, with the
 * validate rules of each field on the way.
 *
 * @module
 */
import protobuf from "protobufjs";
import { typeName } from "./envoy_api.ts";
import { IssueLog, type Segment } from "./issues.ts";
import { camel, describe, isObject } from "./json_values.ts";
import {
  checkAbsentFields,
  checkOneofs,
  type GivenFields,
} from "./presence.ts";
import { checkEnumValue, checkScalar } from "./scalars.ts";
import { closestName } from "./suggest.ts";
import {
  durationProblem,
  itemRules,
  type Rules,
  rulesOf,
} from "./validate_rules.ts";
import { checkWasmMessage } from "./wasm_config.ts";
import {
  checkWellKnown,
  DURATION,
  type MessageWalk,
  SPECIAL_JSON,
  WRAPPERS,
} from "./well_known.ts";

/** Checks values against Envoy's messages, collecting issues in `log`. */
export class ProtoJsonWalk implements MessageWalk {
  constructor(readonly log: IssueLog = new IssueLog()) {}

  /** Checks `value` as the JSON form of a message of `type`. */
  message(type: protobuf.Type, value: unknown, at: Segment[]): void {
    const name = typeName(type);
    if (SPECIAL_JSON.has(name)) return checkWellKnown(this, name, value, at);
    if (!isObject(value)) {
      return this.log.error(
        at,
        `expected an object (${name}), got ${describe(value)}`,
      );
    }
    const byJsonName = new Map<string, protobuf.Field>();
    for (const field of type.fieldsArray) {
      byJsonName.set(field.name, field);
      byJsonName.set(camel(field.name), field);
    }
    const given: GivenFields = new Map();
    for (const [key, fieldValue] of Object.entries(value)) {
      const field = byJsonName.get(key);
      if (!field) {
        const guess = closestName(
          key,
          type.fieldsArray.map((candidate) => candidate.name),
        );
        this.log.error(
          [...at, key],
          `unknown field "${key}" in ${name}${
            guess ? ` (did you mean "${guess}"?)` : ""
          }`,
        );
        continue;
      }
      if (given.has(field)) {
        this.log.error(
          [...at, key],
          `field "${field.name}" is given twice (as "${
            given.get(field)
          }" and "${key}")`,
        );
        continue;
      }
      given.set(field, key);
      if (
        fieldValue === null &&
        typeName(field.resolvedType) !== "google.protobuf.Value"
      ) continue;
      this.deprecation(name, field, [...at, key]);
      this.field(field, fieldValue, [...at, key]);
    }
    checkOneofs(this.log, type, value, given, at);
    checkAbsentFields(this.log, type, given, at);
    checkWasmMessage(this.log, name, value, given, at);
  }

  /** Deprecated fields: an error when disallowed by default, else a warning. */
  private deprecation(
    messageName: string,
    field: protobuf.Field,
    at: Segment[],
  ): void {
    if (field.options?.["(envoy.annotations.disallowed_by_default)"]) {
      this.log.error(
        at,
        `field "${field.name}" of ${messageName} is deprecated and disallowed by default`,
      );
    } else if (field.options?.deprecated) {
      this.log.warn(
        at,
        `field "${field.name}" of ${messageName} is deprecated`,
      );
    }
  }

  /** One field's value: repeated, map or single. */
  private field(field: protobuf.Field, value: unknown, at: Segment[]): void {
    const rules = rulesOf(field);
    if (field instanceof protobuf.MapField || field.map) {
      if (!isObject(value)) {
        return this.log.error(at, `expected a map, got ${describe(value)}`);
      }
      const entries = Object.entries(value);
      const min = Number(rules["map.min_pairs"] ?? 0);
      if (entries.length < min) {
        this.log.error(
          at,
          `needs at least ${min} entr${min === 1 ? "y" : "ies"}`,
        );
      }
      const keyType = (field as unknown as protobuf.MapField).keyType;
      for (const [key, item] of entries) {
        if (
          keyType !== "string" && keyType !== "bool" && !/^-?\d+$/.test(key)
        ) {
          this.log.error([...at, key], `map key "${key}" is not a ${keyType}`);
        }
        this.single(field, item, [...at, key], {});
      }
      return;
    }
    if (field.repeated) {
      if (!Array.isArray(value)) {
        return this.log.error(at, `expected a list, got ${describe(value)}`);
      }
      const min = Number(rules["repeated.min_items"] ?? 0);
      const max = rules["repeated.max_items"] === undefined
        ? Infinity
        : Number(rules["repeated.max_items"]);
      if (value.length < min) {
        this.log.error(
          at,
          `needs at least ${min} item(s), has ${value.length}`,
        );
      }
      if (value.length > max) {
        this.log.error(at, `takes at most ${max} item(s), has ${value.length}`);
      }
      const eachItem = itemRules(rules);
      value.forEach((item, index) =>
        this.single(field, item, [...at, index], eachItem)
      );
      return;
    }
    this.single(field, value, at, rules);
  }

  /** One value of a field's type, with that field's validate rules. */
  private single(
    field: protobuf.Field,
    value: unknown,
    at: Segment[],
    rules: Rules,
  ): void {
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Type) {
      const name = typeName(resolved);
      if (WRAPPERS[name] && (value === null || !isObject(value))) {
        return checkScalar(this.log, WRAPPERS[name], value, at, rules);
      }
      if (
        name === "google.protobuf.Duration" && typeof value === "string" &&
        DURATION.test(value)
      ) {
        const problem = durationProblem(value, rules);
        if (problem) this.log.error(at, `duration ${value} ${problem}`);
        return;
      }
      return this.message(resolved, value, at);
    }
    if (resolved instanceof protobuf.Enum) {
      return checkEnumValue(this.log, resolved, value, at, rules);
    }
    checkScalar(this.log, field.type, value, at, rules);
  }
}
