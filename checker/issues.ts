/**
 * What the checks report: one issue per problem, at a path of segments into
 * the checked value.
 *
 * @module
 */

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

/** One step of a path into a message: a field name or a list index. */
export type Segment = string | number;

/** An issue as a check finds it: its path still as segments. */
export interface FoundIssue {
  segments: Segment[];
  message: string;
  severity: "error" | "warning";
}

/** The issues found so far by one run of the checks. */
export class IssueLog {
  readonly issues: FoundIssue[] = [];

  error(segments: Segment[], message: string): void {
    this.issues.push({ segments, message, severity: "error" });
  }

  warn(segments: Segment[], message: string): void {
    this.issues.push({ segments, message, severity: "warning" });
  }

  hasErrors(): boolean {
    return this.issues.some((issue) => issue.severity === "error");
  }
}
