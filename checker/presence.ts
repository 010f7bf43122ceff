/**
 * The validate rules that bind which fields are set: oneofs (at most one
 * member; one required by `(validate.required)`), and absent fields that a
 * rule still binds (required messages, min lengths, min items, bounds on 0).
 *
 * @module
 */
import protobuf from "protobufjs";
import { typeName } from "./envoy_api.ts";
import type { IssueLog, Segment } from "./issues.ts";
import { NUMERIC } from "./scalars.ts";
import { boundProblem, isRequiredMessage, rulesOf } from "./validate_rules.ts";

/** The fields given in an object, with the key each was given under. */
export type GivenFields = Map<protobuf.Field, string>;

/** Oneof rules: at most one member set; one required when `(validate.required)`. */
export function checkOneofs(
  log: IssueLog,
  type: protobuf.Type,
  value: Record<string, unknown>,
  given: GivenFields,
  at: Segment[],
): void {
  for (const oneof of type.oneofsArray) {
    const members = oneof.fieldsArray.map((field) => field.name).join(", ");
    const set = oneof.fieldsArray.filter((field) =>
      given.has(field) && value[given.get(field)!] !== null
    );
    if (set.length > 1) {
      log.error(
        [...at, given.get(set[1])!],
        `only one of ${members} may be set (${
          set.map((field) => field.name).join(" and ")
        } are)`,
      );
    }
    if (set.length === 0 && oneof.options?.["(validate.required)"] === true) {
      log.error(at, `${typeName(type)} needs one of ${members}`);
    }
  }
}

/** Rules that also bind absent fields: required messages, min lengths, min items, bounds on 0. */
export function checkAbsentFields(
  log: IssueLog,
  type: protobuf.Type,
  given: GivenFields,
  at: Segment[],
): void {
  for (const field of type.fieldsArray) {
    if (given.has(field) || field.partOf) continue;
    const problem = absenceProblem(field);
    if (problem) {
      log.error(
        at,
        problem === "required"
          ? `missing required field "${field.name}" in ${typeName(type)}`
          : `missing field "${field.name}" in ${typeName(type)}: ${problem}`,
      );
    }
  }
}

/** Why a field may not be left out: "required", another reason, or undefined. */
function absenceProblem(field: protobuf.Field): string | undefined {
  const rules = rulesOf(field);
  if (isRequiredMessage(rules)) return "required";
  if (field.map || field.repeated) {
    const min = Number(
      rules["repeated.min_items"] ?? rules["map.min_pairs"] ?? 0,
    );
    return min > 0 ? `needs at least ${min} item(s)` : undefined;
  }
  if (field.resolvedType instanceof protobuf.Type) return undefined;
  if (field.type === "string" || field.type === "bytes") {
    const min = Number(
      rules["string.min_len"] ?? rules["string.min_bytes"] ??
        rules["bytes.min_len"] ?? 0,
    );
    return min > 0 && rules["string.ignore_empty"] !== true
      ? "required"
      : undefined;
  }
  if (field.type in NUMERIC) {
    const problem = boundProblem(0, rules, field.type);
    return problem ? `its default 0 ${problem}` : undefined;
  }
  if (field.resolvedType instanceof protobuf.Enum) {
    return rules["enum.defined_only"] === true &&
        !Object.values(field.resolvedType.values).includes(0)
      ? "required"
      : undefined;
  }
  return undefined;
}
