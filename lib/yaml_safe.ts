/**
 * Generated YAML, written from data: every file the project generates that
 * holds a user-given value (Envoy bootstraps, the compose file) goes through
 * {@link writeYaml}. A string is written plain only when it is unmistakably a
 * string to every YAML reader (letters, digits and `_./@-`, starting with a
 * letter, not a YAML 1.1 keyword such as `y`, `on` or `null`); anything else is
 * quoted (double quotes with escapes; single quotes for printable ASCII with a
 * `"` in it). Comments are fixed text placed on nodes, so no
 * value ever lands in a comment. The text is read back (YAML 1.2 and 1.1) and
 * must give the same data, or writing fails.
 *
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import { Document, isScalar, type Node, parse, visit } from "yaml";
import { UserError } from "./errors.ts";

/** A path in the data: map keys and sequence indexes. */
export type YamlPath = readonly (string | number)[];

/** A comment for readers, placed before a node or after it on its line. */
export interface YamlComment {
  /** The node the comment belongs to (`[]`: the document, before everything). */
  path: YamlPath;
  /** Fixed text (lines), written before the node. */
  before?: string;
  /** Fixed text (one line), written after the node on its line. */
  after?: string;
}

/** How {@link writeYaml} lays the data out. */
export interface YamlLayout {
  /** Comments for readers; their text must be fixed, never a user value. */
  comments?: readonly YamlComment[];
  /** Maps and sequences written on one line (`{ a: 1, b: 2 }`). */
  flow?: readonly YamlPath[];
  /** Paths of maps after which an empty line is written. */
  spaceBefore?: readonly YamlPath[];
}

/** Words YAML 1.1 readers (Envoy's yaml-cpp among them) take for booleans or null. */
const KEYWORDS = new Set([
  "y",
  "yes",
  "n",
  "no",
  "true",
  "false",
  "on",
  "off",
  "null",
  "inf",
  "infinity",
  "nan",
]);

/** Whether `text` may be written as a plain scalar. */
export function isPlainSafe(text: string): boolean {
  if (KEYWORDS.has(text.toLowerCase())) return false;
  // Letters first (no number, no indicator), then a conservative alphabet;
  // or a duration such as `1s`, which no reader takes for a number.
  return /^[A-Za-z_][A-Za-z0-9_./@-]*$/.test(text) ||
    /^[0-9]{1,9}s$/.test(text);
}

/**
 * Characters the YAML library writes raw inside double quotes that YAML
 * readers treat as line breaks or refuse (NEL, LS, PS, DEL, C1, BOM,
 * U+FFFE/U+FFFF): written as `\uXXXX` escapes instead.
 */
const RAW_UNSAFE = /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g;

function checkComment(text: string): void {
  if (
    // deno-lint-ignore no-control-regex
    /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/
      .test(text)
  ) {
    throw new Error("a YAML comment holds a control character");
  }
}

/** Throws a one-line UserError when a string has an unpaired surrogate (no UTF-8 form). */
function refuseUnpairedSurrogates(data: unknown, where: string[]): void {
  if (typeof data === "string") {
    if (!data.isWellFormed()) {
      throw new UserError(
        `${
          where.join(".") || "a value"
        } is not valid Unicode (it has an unpaired surrogate)`,
        2,
      );
    }
  } else if (Array.isArray(data)) {
    data.forEach((item, i) =>
      refuseUnpairedSurrogates(item, [...where, `${i}`])
    );
  } else if (typeof data === "object" && data !== null) {
    for (const [key, value] of Object.entries(data)) {
      refuseUnpairedSurrogates(key, where);
      refuseUnpairedSurrogates(value, [...where, key]);
    }
  }
}

function nodeAt(doc: Document, path: YamlPath): Node {
  const node = doc.getIn(path, true);
  if (node === undefined || node === null || typeof node !== "object") {
    throw new Error(`no YAML node at ${path.join(".")}`);
  }
  return node as Node;
}

/**
 * `data` as YAML text, laid out as `layout` says. Throws a UserError for a
 * string with no UTF-8 form, and an Error (a bug) if the text does not read
 * back as `data`.
 *
 * @example
 * ```ts
 * import { writeYaml } from "./yaml_safe.ts";
 * writeYaml({ name: "on" }, { comments: [{ path: [], before: "Hello" }] });
 * // '# Hello\n\nname: "on"\n'
 * ```
 */
export function writeYaml(data: unknown, layout: YamlLayout = {}): string {
  refuseUnpairedSurrogates(data, []);
  const plain = JSON.parse(JSON.stringify(data));
  const doc = new Document(plain);
  visit(doc, {
    Scalar(key, node) {
      if (typeof node.value !== "string" || isPlainSafe(node.value)) return;
      // Double quotes; printable ASCII holding `"` reads better in single
      // quotes (which escape nothing but `'`, doubled).
      node.type =
        key !== "key" && /^[\x20-\x7e]*"[\x20-\x7e]*$/.test(node.value)
          ? "QUOTE_SINGLE"
          : "QUOTE_DOUBLE";
    },
  });
  for (const path of layout.flow ?? []) {
    (nodeAt(doc, path) as { flow?: boolean }).flow = true;
  }
  for (const path of layout.spaceBefore ?? []) {
    const parent = doc.getIn(path.slice(0, -1), true) as {
      items?: { key?: unknown }[];
    };
    const pair = parent.items?.find((item) =>
      isScalar(item.key) && item.key.value === path[path.length - 1]
    ) as { key: Node } | undefined;
    if (pair === undefined) throw new Error(`no YAML key ${path.join(".")}`);
    pair.key.spaceBefore = true;
  }
  for (const comment of layout.comments ?? []) {
    if (comment.before !== undefined) checkComment(comment.before);
    if (comment.after !== undefined) checkComment(comment.after);
    const before = comment.before?.split("\n").map((line) =>
      line === "" ? " " : ` ${line}`
    ).join("\n");
    if (comment.path.length === 0) {
      // The header: before the first key, with no empty line after it.
      const first = (doc.contents as { items?: { key?: Node }[] } | null)
        ?.items?.[0]?.key;
      if (before === undefined) continue;
      if (first !== undefined) first.commentBefore = before;
      else doc.commentBefore = before;
      continue;
    }
    const node = nodeAt(doc, comment.path);
    if (comment.after !== undefined) node.comment = ` ${comment.after}`;
    if (before === undefined) continue;
    // A map value's comment goes before its key's line.
    const parent = doc.getIn(comment.path.slice(0, -1), true) as {
      items?: ({ key?: unknown } | Node)[];
    };
    const last = comment.path[comment.path.length - 1];
    const pair = typeof last === "string"
      ? parent.items?.find((item) =>
        "key" in item && isScalar(item.key) && item.key.value === last
      ) as { key: Node } | undefined
      : undefined;
    if (pair !== undefined) pair.key.commentBefore = before;
    else node.commentBefore = before;
  }
  const text = doc.toString({ lineWidth: 0 }).replace(
    RAW_UNSAFE,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  for (const version of ["1.2", "1.1"] as const) {
    if (!isDeepStrictEqual(parse(text, { version }), plain)) {
      throw new Error(`generated YAML does not read back (YAML ${version})`);
    }
  }
  return text;
}
