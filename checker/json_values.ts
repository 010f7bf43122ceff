/**
 * Small helpers over parsed JSON/YAML values, shared by the checks.
 *
 * @module
 */

/** A plain object (not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Text that is a finite number (" 1e3", "0.5"…). */
export function isNumericText(text: string): boolean {
  return text.trim() !== "" && Number.isFinite(Number(text));
}

/** A value in words, for messages: "a list", "the string \"x\""… */
export function describe(value: unknown): string {
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

/** Up to eight names, comma-separated. */
export function listOf(names: string[]): string {
  return names.length <= 8
    ? names.join(", ")
    : `${names.slice(0, 8).join(", ")}, …`;
}

/** `snake_case` as proto3 JSON's `lowerCamelCase`. */
export function camel(name: string): string {
  return name.replace(
    /_([a-z0-9])/g,
    (_, letter: string) => letter.toUpperCase(),
  );
}

/** The value under the first of `keys` an object has (snake and camel spellings). */
export function valueAt(value: unknown, ...keys: string[]): unknown {
  if (!isObject(value)) return undefined;
  for (const key of keys) if (key in value) return value[key];
  return undefined;
}

/** The value when it is a list, else an empty list. */
export function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The message name of an `Any` object's `@type` URL, if it has one. */
export function anyTypeName(value: unknown): string | undefined {
  if (!isObject(value) || typeof value["@type"] !== "string") return undefined;
  return value["@type"].slice(value["@type"].lastIndexOf("/") + 1);
}
