/**
 * `wasmerang check FILE…`: checks Envoy bootstrap files (YAML or JSON)
 * against Envoy's own v3 API, printing one line per problem with its file,
 * line and YAML path. Exits 1 when any file has an error.
 */
import {
  checkEnvoyBootstrap,
  ENVOY_API_SOURCE,
  renderIssues,
} from "../lib/envoy_check.ts";
import { UserError } from "../lib/errors.ts";

/** Options of `wasmerang check`. */
export interface CheckOptions {
  json?: boolean;
}

/** Checks every file; throws a {@link UserError} when one has errors. */
export async function check(
  files: string[],
  options: CheckOptions = {},
): Promise<void> {
  const reports = [];
  for (const file of files) {
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch (error) {
      const reason = error instanceof Deno.errors.NotFound
        ? "no such file"
        : (error as Error).message;
      throw new UserError(`cannot read ${file}: ${reason}`, 2);
    }
    reports.push({ file, issues: checkEnvoyBootstrap(text) });
  }
  const failed = reports.filter((report) =>
    report.issues.some((issue) => issue.severity === "error")
  );
  if (options.json) {
    console.log(
      JSON.stringify({ api: ENVOY_API_SOURCE, files: reports }, null, 2),
    );
  } else {
    for (const { file, issues } of reports) {
      const errors = issues.filter((issue) =>
        issue.severity === "error"
      ).length;
      const warnings = issues.length - errors;
      if (issues.length > 0) console.log(renderIssues(file, issues));
      console.log(
        errors > 0
          ? `✗ ${file}: ${errors} error(s)${
            warnings ? `, ${warnings} warning(s)` : ""
          }`
          : `✓ ${file}: a valid Envoy bootstrap${
            warnings ? ` (${warnings} warning(s))` : ""
          }`,
      );
    }
  }
  if (failed.length > 0) {
    throw new UserError(
      `${failed.length} of ${files.length} file(s) would be rejected by Envoy (checked against the v3 API ` +
        `snapshot in ${ENVOY_API_SOURCE}; a field newer than that snapshot shows as unknown)`,
    );
  }
}
