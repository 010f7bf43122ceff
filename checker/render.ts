/**
 * How issues read: paths as `a.b[0]["odd key"]`, one line per issue.
 *
 * @module
 */
import type { CheckIssue, Segment } from "./issues.ts";

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

/**
 * Reads a path {@link formatPath} wrote back into segments:
 * `spec.configPatches[0]["odd key"]` → `["spec", "configPatches", 0, "odd key"]`.
 * Undefined when the text is not such a path.
 */
export function parsePath(path: string): Segment[] | undefined {
  const segments: Segment[] = [];
  const token =
    /\.?([A-Za-z_][A-Za-z0-9_]*)|\[([0-9]+)\]|\[("(?:[^"\\]|\\.)*")\]/y;
  while (token.lastIndex < path.length) {
    const at = token.lastIndex;
    const match = token.exec(path);
    if (!match || (at === 0 && match[0].startsWith("."))) return undefined;
    if (match[1] !== undefined) segments.push(match[1]);
    else if (match[2] !== undefined) segments.push(Number(match[2]));
    else segments.push(JSON.parse(match[3]) as string);
  }
  return segments;
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
