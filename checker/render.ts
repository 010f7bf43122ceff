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

/** One line per issue: `file:line:col: error: path: message`. */
export function renderIssues(file: string, issues: CheckIssue[]): string {
  return issues.map((issue) => {
    const where = issue.line ? `${file}:${issue.line}:${issue.column}` : file;
    return `${where}: ${issue.severity}: ${
      issue.path ? `${issue.path}: ` : ""
    }${issue.message}`;
  }).join("\n");
}
