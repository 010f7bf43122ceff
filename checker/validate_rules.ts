/**
 * protoc-gen-validate rules as Envoy's protos carry them in field options
 * (`(validate.rules).string.min_len`…), and what a value violates.
 *
 * @module
 */
import type protobuf from "protobufjs";

/** A field's rules, keyed without the `(validate.rules).` prefix. */
export type Rules = Record<string, unknown>;

const PREFIX = "(validate.rules).";
const ITEM_PREFIX = "repeated.items.";

/** The protoc-gen-validate rules of a field, keyed without the `(validate.rules).` prefix. */
export function rulesOf(field: protobuf.Field): Rules {
  const rules: Rules = {};
  for (const [key, value] of Object.entries(field.options ?? {})) {
    if (key.startsWith(PREFIX)) rules[key.slice(PREFIX.length)] = value;
  }
  return rules;
}

/** The rules a repeated field sets for each of its items (`repeated.items.*`). */
export function itemRules(rules: Rules): Rules {
  return Object.fromEntries(
    Object.entries(rules).filter(([key]) => key.startsWith(ITEM_PREFIX))
      .map(([key, rule]) => [key.slice(ITEM_PREFIX.length), rule]),
  );
}

/** True when the rules make a message (or Any, Duration, Timestamp) field required. */
export function isRequiredMessage(rules: Rules): boolean {
  return rules["message.required"] === true ||
    rules["any.required"] === true ||
    rules["duration.required"] === true ||
    rules["timestamp.required"] === true;
}

/** A violated `gt`/`gte`/`lt`/`lte` bound of a numeric rule set, in words. */
export function boundProblem(
  value: number,
  rules: Rules,
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
export function durationProblem(
  text: string,
  rules: Rules,
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
