/**
 * The state file of a detached example: which process runs it and where it
 * listens, under the user's cache directory (`$WASMERANG_STATE_DIR`, else
 * `$XDG_CACHE_HOME/wasmerang`, else `~/.cache/wasmerang`;
 * `~/Library/Caches/wasmerang` on macOS). And how a process is known to be
 * that example: on Linux a recorded pid counts only when the process has the
 * recorded start time, is this same program and names this state directory on
 * its command line (a reused pid, an editor on a file here, another example on
 * another state directory are never ours).
 *
 * @module
 */
import { join, resolve } from "node:path";

/** What `up local --detach` (and `up envoy --detach`) records. */
export interface LocalState {
  pid: number;
  /** The process's start time (field 22 of /proc/<pid>/stat), where there is /proc. */
  startTime?: string;
  /** The proxy's address, `host:port`. */
  listen: string;
  /** Egress servers by name, `host:port`. */
  egress: Record<string, string>;
  /** The `--config` text the example runs with. */
  config: string;
  /** The module it runs: its absolute path; absent for the embedded filter. */
  wasm?: string;
  /** That module's sha256 (hex) when the example started. */
  wasmSha256?: string;
  /** The root id the filter runs under (absent: `wasmerang`). */
  rootId?: string;
  /** tcp_proxy's default cluster (absent: the first in {@link egress}). */
  defaultCluster?: string;
  /** Where the detached process writes its access log and filter logs. */
  logFile: string;
  startedAt: string;
  /** `envoy` mode: Envoy's admin address, `host:port`. */
  admin?: string;
  /** `envoy` mode: the Envoy process the detached process supervises. */
  envoyPid?: number;
  /** `envoy` mode: that Envoy's start time (as {@link startTime}). */
  envoyStartTime?: string;
  /** `envoy` mode: the Envoy binary it runs. */
  envoyPath?: string;
  /** Set when the example stopped by itself: why (its process is gone). */
  stopped?: string;
}

/** The environments that run detached: the state and log files are named after them. */
export type DetachedMode = "local" | "envoy";

/**
 * The flag the background process is started with, followed by the absolute
 * state directory: how `down` tells this state directory's example from any
 * other process.
 */
export const DETACHED_FLAG = "--detached-in";

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

/** What reading the state file found. */
export type StateReading =
  | { state: LocalState; problem?: undefined }
  | { state?: undefined; problem: "missing" }
  | { state?: undefined; problem: "unreadable"; reason: string };

/** Reads the state file, saying why there is no state when there is none. */
export function readStateFile(mode: DetachedMode = "local"): StateReading {
  let text;
  try {
    text = Deno.readTextFileSync(stateFile(mode));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { problem: "missing" };
    return { problem: "unreadable", reason: (error as Error).message };
  }
  try {
    const state = JSON.parse(text);
    if (
      Number.isSafeInteger(state?.pid) && state.pid > 0 &&
      typeof state?.listen === "string"
    ) return { state };
    return { problem: "unreadable", reason: "no pid and address in it" };
  } catch {
    return { problem: "unreadable", reason: "not JSON" };
  }
}

/** The recorded state, or undefined when there is none (or it is unreadable). */
export function readState(
  mode: DetachedMode = "local",
): LocalState | undefined {
  return readStateFile(mode).state;
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

/** Whether processes can be told apart here (Linux's /proc). */
function hasProc(): boolean {
  return Deno.build.os === "linux";
}

/**
 * The start time of `pid` (field 22 of /proc/<pid>/stat, in clock ticks
 * since boot), or undefined when it is gone or there is no /proc. Fields are
 * counted after the last `)`: the command name before it may hold anything.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // After ") " come field 3 (state) onwards: field 22 is the 20th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19];
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` runs and, with `startTime`, is that very process (a zombie,
 * exited but not yet reaped, does not run).
 */
export function isAlive(pid: number, startTime?: string): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[0] !== "Z" && fields[0] !== "X" &&
      (startTime === undefined || fields[19] === startTime);
  } catch {
    return false;
  }
}

/** The parent pid of `pid` (field 4 of /proc/<pid>/stat), or undefined. */
export function parentPid(pid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[1]);
  } catch {
    return undefined;
  }
}

/** The argument vector of `pid`, or undefined when it cannot be read. */
export function processArgv(pid: number): string[] | undefined {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/cmdline`);
    if (text === "") return undefined; // a zombie, or a kernel thread
    return text.replace(/\0$/, "").split("\0");
  } catch {
    return undefined;
  }
}

/** The real path of the executable `pid` runs, or undefined. */
export function processExecutable(pid: number): string | undefined {
  try {
    return Deno.realPathSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

/** The real path of `path`, or `path` itself when it cannot be resolved. */
export function realPath(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return path;
  }
}

/** Every pid in /proc (none without /proc). */
export function allPids(): number[] {
  const pids: number[] = [];
  try {
    for (const entry of Deno.readDirSync("/proc")) {
      if (/^\d+$/.test(entry.name)) pids.push(Number(entry.name));
    }
  } catch {
    // No /proc.
  }
  return pids;
}

/** Whether `argv` holds `flag` immediately followed by `value`. */
export function hasPair(argv: string[], flag: string, value: string): boolean {
  return argv.some((arg, i) => arg === flag && argv[i + 1] === value);
}

/** The state directory as the background process names it: absolute. */
export function stateDirMarker(): string {
  return resolve(stateDir());
}

/**
 * Whether `pid` is this state directory's background example of `mode`
 * (with `startTime`, also that it is the very process recorded). On Linux:
 * the same program as this one, `up <mode>` and `--detached-in <this state
 * dir>` on its command line, and the recorded start time. Elsewhere any live
 * process with that pid counts.
 */
export function isRunning(
  pid: number,
  mode: DetachedMode = "local",
  startTime?: string,
): boolean {
  if (!hasProc()) {
    try {
      Deno.kill(pid, "SIGCONT");
      return true;
    } catch {
      return false;
    }
  }
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (startTime !== undefined && processStartTime(pid) !== startTime) {
    return false;
  }
  const argv = processArgv(pid);
  if (argv === undefined) return false;
  const up = argv.findIndex((arg, i) => arg === "up" && argv[i + 1] === mode);
  return up > 0 && hasPair(argv, DETACHED_FLAG, stateDirMarker()) &&
    processExecutable(pid) === realPath(Deno.execPath());
}

/**
 * The background examples of `mode` this state directory started, found by
 * their command lines (for a state file that is missing or unreadable).
 * Never this process itself.
 */
export function findDetached(mode: DetachedMode = "local"): number[] {
  if (!hasProc()) return [];
  return allPids().filter((pid) =>
    pid !== Deno.pid && isRunning(pid, mode) &&
    processStartTime(pid) !== undefined
  );
}
