/**
 * proto3-JSON scalar and enum values (strings, bools, base64 bytes, numbers
 * in range) with the validate rules that bind them.
 *
 * @module
 */
import type protobuf from "protobufjs";
import { typeName } from "./envoy_api.ts";
import type { IssueLog, Segment } from "./issues.ts";
import { describe, isNumericText, listOf } from "./json_values.ts";
import { boundProblem, type Rules } from "./validate_rules.ts";

/** The numeric proto scalar types, by the range (or float) they take. */
export const NUMERIC: Record<
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

/** Checks `value` as the JSON form of the scalar `type` under `rules`. */
export function checkScalar(
  log: IssueLog,
  type: string,
  value: unknown,
  at: Segment[],
  rules: Rules,
): void {
  if (type === "string") return checkString(log, value, at, rules);
  if (type === "bool") {
    if (typeof value !== "boolean") {
      log.error(at, `expected true or false, got ${describe(value)}`);
    }
    return;
  }
  if (type === "bytes") {
    if (
      typeof value !== "string" || !/^[A-Za-z0-9+/\-_]*={0,2}$/.test(value)
    ) {
      log.error(at, `expected base64-encoded bytes, got ${describe(value)}`);
    }
    return;
  }
  const kind = NUMERIC[type];
  if (!kind) return log.error(at, `unsupported scalar type ${type}`);
  if (kind === "float") {
    const ok = (typeof value === "number") ||
      (typeof value === "string" &&
        (/^(NaN|-?Infinity)$/.test(value) || isNumericText(value)));
    if (!ok) return log.error(at, `expected a number, got ${describe(value)}`);
    const problem = boundProblem(Number(value), rules, type);
    if (problem) log.error(at, `${value} ${problem}`);
    return;
  }
  const big = integerOf(value);
  if (big === undefined) {
    return log.error(
      at,
      `expected an integer (${type}), got ${describe(value)}`,
    );
  }
  const [low, high] = RANGES[kind];
  if (big < low || big > high) {
    return log.error(at, `${value} is out of range for ${type}`);
  }
  const problem = boundProblem(Number(big), rules, type);
  if (problem) log.error(at, `${value} ${problem}`);
}

function checkString(
  log: IssueLog,
  value: unknown,
  at: Segment[],
  rules: Rules,
): void {
  if (typeof value !== "string") {
    return log.error(at, `expected a string, got ${describe(value)}`);
  }
  if (value === "" && rules["string.ignore_empty"] === true) return;
  const min = Number(rules["string.min_len"] ?? rules["string.min_bytes"] ?? 0);
  const max = rules["string.max_len"] ?? rules["string.max_bytes"];
  if ([...value].length < min) {
    log.error(at, `must be at least ${min} character(s) long`);
  }
  if (max !== undefined && [...value].length > Number(max)) {
    log.error(at, `must be at most ${max} character(s) long`);
  }
}

/** An integer given as a JSON number or a numeric string, else undefined. */
function integerOf(value: unknown): bigint | undefined {
  if (typeof value === "number" && Number.isInteger(value)) {
    return BigInt(value);
  }
  if (typeof value === "string" && /^-?\d+$/.test(value)) return BigInt(value);
  if (
    typeof value === "string" && isNumericText(value) &&
    Number.isInteger(Number(value))
  ) return BigInt(Number(value));
  return undefined;
}

/** Checks `value` as a value of the enum `type`: its name, or a defined number. */
export function checkEnumValue(
  log: IssueLog,
  type: protobuf.Enum,
  value: unknown,
  at: Segment[],
  rules: Rules,
): void {
  const names = Object.keys(type.values);
  if (typeof value === "string") {
    if (!(value in type.values)) {
      log.error(
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
      log.error(
        at,
        `${value} is not a defined value of ${
          typeName(type)
        } (expected one of ${listOf(names)})`,
      );
    }
  } else {
    log.error(
      at,
      `expected an enum value of ${typeName(type)} (one of ${
        listOf(names)
      }), got ${describe(value)}`,
    );
  }
}
