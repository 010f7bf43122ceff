/**
 * The state file of a detached local example: which process runs it and
 * where it listens, under the user's cache directory
 * (`$WASMERANG_STATE_DIR`, else `$XDG_CACHE_HOME/wasmerang`, else
 * `~/.cache/wasmerang`; `~/Library/Caches/wasmerang` on macOS).
 *
 * @module
 */
import { join } from "node:path";

/** What `up local --detach` records. */
export interface LocalState {
  pid: number;
  /** The proxy's address, `host:port`. */
  listen: string;
  /** Egress servers by name, `host:port`. */
  egress: Record<string, string>;
  /** The `--config` text the example runs with. */
  config: string;
  /** Where the detached process writes its access log and filter logs. */
  logFile: string;
  startedAt: string;
  /** `envoy` mode: Envoy's admin address, `host:port`. */
  admin?: string;
  /** `envoy` mode: the Envoy process the detached process supervises. */
  envoyPid?: number;
}

/** The environments that run detached: the state and log files are named after them. */
export type DetachedMode = "local" | "envoy";

/** The directory holding the state and log files. */
export function stateDir(): string {
  const explicit = Deno.env.get("WASMERANG_STATE_DIR");
  if (explicit) return explicit;
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE") ?? ".";
  if (Deno.build.os === "darwin") {
    return join(home, "Library", "Caches", "wasmerang");
  }
  if (Deno.build.os === "windows") {
    return join(Deno.env.get("LOCALAPPDATA") ?? home, "wasmerang");
  }
  return join(
    Deno.env.get("XDG_CACHE_HOME") ?? join(home, ".cache"),
    "wasmerang",
  );
}

/** The state file's path. */
export function stateFile(mode: DetachedMode = "local"): string {
  return join(stateDir(), `${mode}.json`);
}

/** The detached process's log file. */
export function logFile(mode: DetachedMode = "local"): string {
  return join(stateDir(), `${mode}.log`);
}

/** The recorded state, or undefined when there is none (or it is unreadable). */
export function readState(
  mode: DetachedMode = "local",
): LocalState | undefined {
  try {
    const state = JSON.parse(Deno.readTextFileSync(stateFile(mode)));
    return typeof state?.pid === "number" && typeof state?.listen === "string"
      ? state
      : undefined;
  } catch {
    return undefined;
  }
}

/** Records the state (atomically). */
export function writeState(
  state: LocalState,
  mode: DetachedMode = "local",
): void {
  Deno.mkdirSync(stateDir(), { recursive: true });
  const temporary = `${stateFile(mode)}.${Deno.pid}.tmp`;
  Deno.writeTextFileSync(temporary, JSON.stringify(state, null, 2) + "\n");
  Deno.renameSync(temporary, stateFile(mode));
}

/** Removes the state file, if it belongs to `pid` (or unconditionally without one). */
export function removeState(
  pid?: number,
  mode: DetachedMode = "local",
): void {
  const state = readState(mode);
  if (pid !== undefined && state !== undefined && state.pid !== pid) return;
  try {
    Deno.removeSync(stateFile(mode));
  } catch {
    // Already gone.
  }
}

/**
 * Whether `pid` is a running wasmerang example of `mode`. On Linux its command
 * line must say so (a reused pid is not ours); elsewhere any live process counts.
 */
export function isRunning(
  pid: number,
  mode: DetachedMode = "local",
): boolean {
  try {
    const cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
    return cmdline.includes("up") && cmdline.includes(mode);
  } catch (error) {
    if (Deno.build.os === "linux") return false;
    if (!(error instanceof Deno.errors.NotFound)) return false;
  }
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}
