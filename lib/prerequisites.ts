/**
 * The external tools the real environments need (docker, docker compose, a
 * running Docker engine, kind, kubectl, istioctl): found or not, their
 * version, and a one-line install hint. `wasmerang doctor` prints this;
 * `up docker` / `up istio` call {@link requirePrerequisites} first, so they
 * stop with the same hint before writing or starting anything.
 *
 * Tools are looked up on the PATH of the running process, so tests can run
 * the CLI with a PATH that lacks docker.
 */
import { type CommandResult, runCommand } from "./commands.ts";
import { UserError } from "./errors.ts";
import {
  ENVOY_INSTALL_HINT,
  findEnvoy,
  hasV8,
  MIN_ENVOY,
  supportsFilterState,
} from "./envoy/binary.ts";
import { table } from "./ui.ts";

/** The tools `doctor` knows, in the order it prints them. */
export const TOOLS = [
  "docker",
  "docker compose",
  "docker engine",
  "kind",
  "kubectl",
  "istioctl",
  "envoy",
] as const;

/** One of {@link TOOLS}. */
export type ToolName = typeof TOOLS[number];

/** An environment as far as its prerequisites go: its name and the tools it needs. */
export interface NeedsOf {
  /** The environment's name (`docker`, `istio`…). */
  name: string;
  /** The tools it needs. */
  needs: readonly ToolName[];
}

/** One line each: how to get the tool. */
export const INSTALL_HINTS: Readonly<Record<ToolName, string>> = {
  docker:
    "install Docker Engine (https://docs.docker.com/engine/install/) or Docker Desktop",
  "docker compose":
    "install the Compose v2 plugin (https://docs.docker.com/compose/install/linux/)",
  "docker engine":
    "start the Docker daemon (`sudo systemctl start docker`, or open Docker Desktop)",
  kind:
    "go install sigs.k8s.io/kind@v0.32.0, or see https://kind.sigs.k8s.io/docs/user/quick-start/#installation",
  kubectl: "install kubectl: https://kubernetes.io/docs/tasks/tools/",
  istioctl:
    "curl -L https://istio.io/downloadIstio | ISTIO_VERSION=1.31.1 sh -, then put istio-1.31.1/bin on PATH",
  envoy: ENVOY_INSTALL_HINT,
};

/** What `doctor` found for one tool. */
export interface ToolStatus {
  /** Which tool. */
  name: ToolName;
  /** True when the tool ran and succeeded (for the engine: the daemon answered). */
  found: boolean;
  /** Version as the tool reports it, without a leading "v". */
  version?: string;
  /** More about what was found (Envoy: its path and Wasm runtime). */
  detail?: string;
  /** Why it counts as missing, when it does (not on PATH, daemon unreachable…). */
  problem?: string;
  /** How to install or start it: the tool's {@link INSTALL_HINTS} line. */
  hint: string;
  /** The environments that need this tool. */
  neededBy: string[];
}

const TIMEOUT_MS = 10_000;
const VERSION = /v?(\d+\.\d+(?:\.\d+)?(?:[-+][0-9A-Za-z.-]+)?)/;

async function tryRun(argv: string[]): Promise<CommandResult | undefined> {
  try {
    return await runCommand(argv, { timeoutMs: TIMEOUT_MS });
  } catch (error) {
    if (error instanceof UserError) return undefined; // not on PATH
    throw error;
  }
}

function versionIn(text: string, prefix?: RegExp): string | undefined {
  if (prefix) {
    const line = text.split("\n").find((candidate) => prefix.test(candidate));
    if (line) return line.replace(prefix, "").match(VERSION)?.[1];
  }
  return text.match(VERSION)?.[1];
}

function firstLine(text: string): string {
  return text.trim().split("\n").find((line) => line.trim() !== "")?.trim() ??
    "";
}

/** Probes one program: `missing` when it is not on PATH or fails. */
async function probe(
  name: ToolName,
  argv: string[],
  prefix?: RegExp,
): Promise<Omit<ToolStatus, "hint" | "neededBy">> {
  const result = await tryRun(argv);
  if (!result) {
    return { name, found: false, problem: `${argv[0]} not found on PATH` };
  }
  if (result.code !== 0) {
    const why = result.timedOut
      ? "timed out"
      : firstLine(result.stderr || result.stdout) || `exit ${result.code}`;
    return {
      name,
      found: false,
      problem: `\`${argv.join(" ")}\` failed: ${why}`,
    };
  }
  return {
    name,
    found: true,
    version: versionIn(result.stdout + result.stderr, prefix),
  };
}

async function probeTool(
  name: ToolName,
): Promise<Omit<ToolStatus, "hint" | "neededBy">> {
  switch (name) {
    case "docker":
      return await probe(name, ["docker", "--version"]);
    case "docker compose":
      return await probe(name, ["docker", "compose", "version"]);
    case "docker engine":
      return await probe(name, [
        "docker",
        "info",
        "--format",
        "{{.ServerVersion}}",
      ]);
    case "kind":
      return await probe(name, ["kind", "version"]);
    case "kubectl":
      return await probe(
        name,
        ["kubectl", "version", "--client"],
        /^Client Version:/,
      );
    case "istioctl":
      return await probe(name, ["istioctl", "version", "--remote=false"]);
    case "envoy":
      return await probeEnvoy();
  }
}

/** Envoy: found, at least 1.28, and with the V8 Wasm runtime. */
async function probeEnvoy(): Promise<Omit<ToolStatus, "hint" | "neededBy">> {
  const name = "envoy";
  let envoy;
  try {
    envoy = await findEnvoy();
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    return { name, found: false, problem: error.message.split(":")[0] };
  }
  const version = envoy.version;
  if (!supportsFilterState(version)) {
    return {
      name,
      found: false,
      version,
      problem:
        `Envoy ${version} is too old: set_envoy_filter_state does not exist before ${
          MIN_ENVOY.join(".")
        }`,
    };
  }
  if (!(await hasV8(envoy))) {
    return {
      name,
      found: false,
      version,
      problem: `${envoy.path} has no V8 Wasm runtime (envoy.wasm.runtime.v8)`,
    };
  }
  return { name, found: true, version, detail: `V8, ${envoy.path}` };
}

/**
 * Looks for `names` (default: every tool) in parallel; `neededBy` names the
 * environments that need a tool. The Docker engine counts as missing when the
 * docker CLI is.
 */
export async function checkTools(
  names: readonly ToolName[] = TOOLS,
  neededBy: (name: ToolName) => string[] = () => [],
): Promise<ToolStatus[]> {
  const wanted = TOOLS.filter((name) => names.includes(name));
  const dockerFound = wanted.includes("docker") ||
      wanted.some((name) => name.startsWith("docker "))
    ? (await probeTool("docker")).found
    : false;
  return await Promise.all(wanted.map(async (name) => {
    const status = name.startsWith("docker ") && !dockerFound
      ? { name, found: false, problem: "docker not found on PATH" }
      : await probeTool(name);
    return { ...status, hint: INSTALL_HINTS[name], neededBy: neededBy(name) };
  }));
}

/** The tools in `needs` that are missing from `statuses`. */
export function missingFrom(
  needs: readonly ToolName[],
  statuses: ToolStatus[],
): ToolStatus[] {
  return statuses.filter((status) =>
    !status.found && needs.includes(status.name)
  );
}

/** Looks for the tools in `needs` and returns those missing. */
export async function missingTools(
  needs: readonly ToolName[],
): Promise<ToolStatus[]> {
  return missingFrom(needs, await checkTools(needs));
}

/** How {@link requirePrerequisites} checks and fails. */
export interface RequireOptions {
  /** The exit code of the error (default 1). */
  exitCode?: number;
  /**
   * Check only these tools, for `command` (e.g. "probe istio"): the error
   * then names every one missing, with its hint.
   */
  only?: { tools: readonly ToolName[]; command: string };
}

/**
 * Stops with a one-line {@link UserError} naming what `environment` needs
 * that is missing, with the install hint. Call it before writing anything.
 */
export async function requirePrerequisites(
  environment: NeedsOf,
  options: RequireOptions = {},
): Promise<void> {
  const exitCode = options.exitCode ?? 1;
  const { only } = options;
  const mode = environment.name;
  const missing = await missingTools(
    only === undefined
      ? environment.needs
      : environment.needs.filter((name) => only.tools.includes(name)),
  );
  if (missing.length === 0) return;
  if (only !== undefined) {
    throw new UserError(
      `${only.command} needs ${
        missing.map((status) => status.name).join(" and ")
      }, missing: ` +
        missing.map((status) => `${status.name}: ${status.hint}`).join("; ") +
        `; see 'wasmerang doctor ${mode}'`,
      exitCode,
    );
  }
  const [first, ...rest] = missing;
  const also = rest.length
    ? ` (also missing: ${rest.map((status) => status.name).join(", ")})`
    : "";
  throw new UserError(
    `${mode} mode needs ${first.name}, which is missing (${first.problem}): ${first.hint}${also}; ` +
      `see 'wasmerang doctor ${mode}'`,
    exitCode,
  );
}

/** The doctor's report: a table, then one hint line per missing tool. */
export function renderDoctor(
  statuses: ToolStatus[],
  asked?: NeedsOf,
): string {
  const mode = asked?.name;
  const rows = statuses.map((status) => [
    status.found ? "✓" : "✗",
    status.name,
    status.found
      ? `${status.version ?? "(unknown)"}${
        status.detail ? ` (${status.detail})` : ""
      }`
      : "missing",
    status.neededBy.join(", "),
  ]);
  const lines = rows.length > 0
    ? [table(["", "tool", "version", "needed by"], rows)]
    : [];
  const missing = statuses.filter((status) => !status.found);
  for (const status of missing) {
    lines.push(`✗ ${status.name}: ${status.problem}\n  → ${status.hint}`);
  }
  if (mode === undefined || mode === "local") {
    lines.push(
      "local mode needs nothing else: `wasmerang up local` runs the filter in the built-in host.",
    );
  }
  if (asked && mode !== "local") {
    const lacking = missingFrom(asked.needs, statuses);
    lines.push(
      lacking.length === 0
        ? `✓ ${mode} mode: everything it needs is here.`
        : `✗ ${mode} mode cannot run: missing ${
          lacking.map((status) => status.name).join(", ")
        }.`,
    );
  }
  return lines.join("\n");
}
