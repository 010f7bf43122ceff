/**
 * Reading callgrind's output files (the "callgrind format", events `Ir`):
 * the total, and each function's self and inclusive instruction counts,
 * keyed by object and function name.
 *
 * @module
 */

/** One callgrind dump, read. */
export interface CallgrindProfile {
  /** Instructions executed in the dump (its `summary:` line, else the sum of costs). */
  total: number;
  /** Instructions executed in each function itself, by `object|function`. */
  self: Map<string, number>;
  /**
   * Instructions executed in each function and below it (its own, and its
   * calls' costs as the file gives them; a recursive function counts its
   * calls again, as callgrind_annotate's inclusive figures do).
   */
  inclusive: Map<string, number>;
}

/** Object name for code outside any mapped file: V8's generated code (the Wasm module, stubs). */
export const JIT_OBJECT = "???";

/** The key of a function in {@link CallgrindProfile}: its object, then its name. */
export function functionKey(object: string, name: string): string {
  return `${object}|${name}`;
}

/** Reads one callgrind output file's text (the first event column only). */
export function parseCallgrind(text: string): CallgrindProfile {
  const names = new Map<string, string>(); // "ob:(3)" -> name, per kind
  const resolve = (kind: string, value: string): string => {
    const match = /^\((\d+)\)(?: (.*))?$/.exec(value.trim());
    if (match === null) return value.trim();
    const id = `${kind}:${match[1]}`;
    if (match[2] !== undefined) names.set(id, match[2]);
    return names.get(id) ?? value.trim();
  };
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, cost: number) =>
    map.set(key, (map.get(key) ?? 0) + cost);
  let summary: number | undefined;
  let sum = 0;
  let object = JIT_OBJECT;
  let fn = "";
  let inCall = false;
  for (const line of text.split("\n")) {
    const first = line.charCodeAt(0);
    // Cost lines: a position (number, +n, -n or *), then the costs.
    if (
      (first >= 48 && first <= 57) || line[0] === "+" || line[0] === "-" ||
      line[0] === "*"
    ) {
      const cost = Number(line.split(" ")[1] ?? 0);
      const key = functionKey(object, fn);
      if (inCall) {
        add(inclusive, key, cost);
        inCall = false;
      } else {
        add(self, key, cost);
        add(inclusive, key, cost);
        sum += cost;
      }
      continue;
    }
    const equals = line.indexOf("=");
    if (equals < 0) {
      if (line.startsWith("summary:")) summary = Number(line.slice(8));
      continue;
    }
    const kind = line.slice(0, equals);
    const value = line.slice(equals + 1);
    // A callee's name may be defined on its call (cob=, cfn=), and used later.
    if (kind === "ob") object = resolve("ob", value);
    else if (kind === "cob") resolve("ob", value);
    else if (kind === "fn") fn = resolve("fn", value);
    else if (kind === "cfn") resolve("fn", value);
    else if (kind === "calls") inCall = true;
  }
  return { total: summary ?? sum, self, inclusive };
}
