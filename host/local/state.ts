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
}

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
export function stateFile(): string {
  return join(stateDir(), "local.json");
}

/** The detached process's log file. */
export function logFile(): string {
  return join(stateDir(), "local.log");
}

/** The recorded state, or undefined when there is none (or it is unreadable). */
export function readState(): LocalState | undefined {
  try {
    const state = JSON.parse(Deno.readTextFileSync(stateFile()));
    return typeof state?.pid === "number" && typeof state?.listen === "string"
      ? state
      : undefined;
  } catch {
    return undefined;
  }
}

/** Records the state (atomically). */
export function writeState(state: LocalState): void {
  Deno.mkdirSync(stateDir(), { recursive: true });
  const temporary = `${stateFile()}.${Deno.pid}.tmp`;
  Deno.writeTextFileSync(temporary, JSON.stringify(state, null, 2) + "\n");
  Deno.renameSync(temporary, stateFile());
}

/** Removes the state file, if it belongs to `pid` (or unconditionally without one). */
export function removeState(pid?: number): void {
  const state = readState();
  if (pid !== undefined && state !== undefined && state.pid !== pid) return;
  try {
    Deno.removeSync(stateFile());
  } catch {
    // Already gone.
  }
}

/**
 * Whether `pid` is a running wasmerang local example. On Linux its command
 * line must say so (a reused pid is not ours); elsewhere any live process counts.
 */
export function isRunning(pid: number): boolean {
  try {
    const cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
    return cmdline.includes("up") && cmdline.includes("local");
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
