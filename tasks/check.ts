/**
 * `wasmerang check FILE…`: checks Envoy bootstrap files (YAML or JSON)
 * against Envoy's own v3 API, printing one line per problem with its file,
 * line and YAML path. Kubernetes manifests (anything with `apiVersion` and
 * `kind`: the Istio example's EnvoyFilter, Deployments, the kind cluster
 * config) go to the Kubernetes/Istio schemas instead, the EnvoyFilter's wasm
 * `typed_config` through the same Envoy checker. Exits 1 when any file has an
 * error.
 */
import { parseAllDocuments } from "yaml";
import {
  checkEnvoyBootstrap,
  type CheckIssue,
  ENVOY_API_SOURCE,
  renderIssues,
} from "../lib/envoy_check.ts";
import { fileErrorReason, UserError } from "../lib/errors.ts";
import {
  type ManifestIssue,
  validateKindConfig,
  validateManifest,
} from "../lib/istio/validate.ts";

/** Options of `wasmerang check`. */
export interface CheckOptions {
  json?: boolean;
}

/** What one file is and what was found in it. */
interface FileReport {
  file: string;
  kind: "envoy" | "kubernetes";
  issues: CheckIssue[];
}

function isManifest(value: unknown): boolean {
  return typeof value === "object" && value !== null &&
    "apiVersion" in value && "kind" in value;
}

/** Kubernetes documents, or undefined when the file is not made of them. */
function manifests(text: string): unknown[] | undefined {
  const documents = parseAllDocuments(text);
  if (
    !Array.isArray(documents) || documents.some((doc) => doc.errors.length > 0)
  ) return undefined;
  const values = documents.map((doc) => doc.toJS()).filter((value) =>
    value !== null && value !== undefined
  );
  return values.length > 0 && values.every(isManifest) ? values : undefined;
}

function fromManifestIssue(issue: ManifestIssue): CheckIssue {
  return {
    path: [issue.object, issue.path].filter((part) => part !== "").join(": "),
    message: issue.message,
    severity: issue.severity === "warning" ? "warning" : "error",
  };
}

/** Checks one file's text, choosing the schema by what it holds. */
export function checkFileText(file: string, text: string): FileReport {
  const documents = manifests(text);
  if (!documents) {
    return { file, kind: "envoy", issues: checkEnvoyBootstrap(text) };
  }
  const issues = documents.flatMap((value) => {
    const apiVersion = String((value as Record<string, unknown>).apiVersion);
    return apiVersion.startsWith("kind.x-k8s.io/")
      ? validateKindConfig(value, file)
      : validateManifest(value, file);
  });
  return { file, kind: "kubernetes", issues: issues.map(fromManifestIssue) };
}

/** Checks every file; throws a {@link UserError} when one has errors. */
export async function check(
  files: string[],
  options: CheckOptions = {},
): Promise<void> {
  const reports: FileReport[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch (error) {
      throw new UserError(`cannot read ${file}: ${fileErrorReason(error)}`, 2);
    }
    reports.push(checkFileText(file, text));
  }
  const failed = reports.filter((report) =>
    report.issues.some((issue) => issue.severity === "error")
  );
  if (options.json) {
    console.log(
      JSON.stringify({ api: ENVOY_API_SOURCE, files: reports }, null, 2),
    );
  } else {
    for (const { file, kind, issues } of reports) {
      const errors = issues.filter((issue) =>
        issue.severity === "error"
      ).length;
      const warnings = issues.length - errors;
      const what = kind === "envoy"
        ? "a valid Envoy bootstrap"
        : "valid Kubernetes/Istio manifests";
      if (issues.length > 0) console.log(renderIssues(file, issues));
      console.log(
        errors > 0
          ? `✗ ${file}: ${errors} error(s)${
            warnings ? `, ${warnings} warning(s)` : ""
          }`
          : `✓ ${file}: ${what}${warnings ? ` (${warnings} warning(s))` : ""}`,
      );
    }
  }
  if (failed.length > 0) {
    throw new UserError(
      `${failed.length} of ${files.length} file(s) would be rejected (Envoy config checked against the v3 API ` +
        `snapshot in ${ENVOY_API_SOURCE}; a field newer than that snapshot shows as unknown)`,
    );
  }
}
