/**
 * Running an example in the background (`up local --detach`, `up envoy
 * --detach`): the command starts itself again with a marker in the
 * environment; that process logs to the mode's log file, records the state
 * once serving, and stops on SIGTERM (`down`) or when `stopped` resolves.
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { fileErrorReason, UserError } from "./errors.ts";
import { RotatingLog } from "./rotating_log.ts";
import { LineWriter } from "./line_writer.ts";
import {
  DETACHED_FLAG,
  type DetachedMode,
  findDetached,
  isRunning,
  type LocalState,
  logFile,
  processStartTime,
  readState,
  readStateFile,
  removeState,
  stateDir,
  stateDirMarker,
  stateFile,
  writeState,
} from "./state.ts";

/** Set in the environment of the background process `--detach` starts. */
const DETACHED_ENV = "WASMERANG_DETACHED";

/** True in the background process `--detach` started. */
export function isDetachedChild(): boolean {
  return Deno.env.get(DETACHED_ENV) === "1";
}

/** Resolves on SIGINT or SIGTERM (and stops listening for them). */
export function untilSignal(): Promise<void> {
  return new Promise((done) => {
    const signals: Deno.Signal[] = Deno.build.os === "windows"
      ? ["SIGINT"]
      : ["SIGINT", "SIGTERM"];
    const handler = () => {
      for (const signal of signals) Deno.removeSignalListener(signal, handler);
      done();
    };
    for (const signal of signals) Deno.addSignalListener(signal, handler);
  });
}

/** What the background process runs. */
export interface DetachedExample {
  /** What goes into the state file besides pid, log file and start time. */
  state: Omit<LocalState, "pid" | "startTime" | "logFile" | "startedAt">;
  /** One line for the log: what runs where. */
  summary: string;
  /** Resolves (with a reason) if the example stops by itself. */
  stopped?: Promise<string>;
  close(): Promise<void>;
}

/**
 * The background process: starts the example with a log-line writer, records
 * the state, and runs until a signal (or the example stops by itself).
 */
export async function runDetachedChild(
  mode: DetachedMode,
  start: (write: (line: string) => void) => Promise<DetachedExample>,
): Promise<void> {
  const log = new RotatingLog(logFile(mode));
  const lines = new LineWriter(log);
  const write = (line: string) => lines.write(line);
  // Lines that must be on disk before anyone reads the log.
  const writeNow = (line: string) => {
    lines.write(line);
    lines.flush();
  };
  // Nobody sees this process's stderr: anything unexpected goes to the log.
  globalThis.addEventListener(
    "error",
    (event) => writeNow(`error: ${event.message}`),
  );
  globalThis.addEventListener("unhandledrejection", (event) => {
    writeNow(
      `error: ${
        event.reason instanceof Error
          ? event.reason.message
          : String(event.reason)
      }`,
    );
  });
  let example: DetachedExample;
  try {
    example = await start(write);
  } catch (error) {
    writeNow(`error: ${(error as Error).message}`);
    log.close();
    throw error;
  }
  const recorded: LocalState = {
    ...example.state,
    pid: Deno.pid,
    startTime: processStartTime(Deno.pid),
    logFile: logFile(mode),
    startedAt: new Date().toISOString(),
  };
  writeState(recorded, mode);
  writeNow(`started: ${example.summary}`);
  const reason = await Promise.race([
    untilSignal().then(() => undefined),
    example.stopped ?? new Promise<never>(() => {}),
  ]);
  await example.close();
  if (reason === undefined) removeState(Deno.pid, mode);
  else if (readState(mode)?.pid === Deno.pid) {
    // Kept, saying why: `probe` names the example's address and the
    // reason, `down` removes it.
    writeState({ ...recorded, stopped: reason }, mode);
  }
  writeNow(reason === undefined ? "stopped" : `error: ${reason}`);
  log.close();
  if (reason !== undefined) Deno.exit(1);
}

/**
 * Starts `wasmerang up <mode> <args>` in the background and waits until it
 * records its state; throws a one-line UserError with the child's own error
 * when it exits first.
 */
export async function detachSelf(
  mode: DetachedMode,
  args: string[],
  timeoutMs = 20_000,
): Promise<LocalState> {
  Deno.mkdirSync(resolve(stateFile(mode), ".."), { recursive: true });
  removeState(undefined, mode);
  const before = logSize(mode);
  const child = new Deno.Command(Deno.execPath(), {
    // The marker names this state directory: `down` knows the process by it.
    args: [
      ...selfInvocation(),
      "up",
      mode,
      ...args,
      DETACHED_FLAG,
      stateDirMarker(),
    ],
    env: { [DETACHED_ENV]: "1", WASMERANG_STATE_DIR: stateDirMarker() },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let exited: Deno.CommandStatus | undefined;
  child.status.then((status) => (exited = status));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const state = readState(mode);
    if (state?.pid === child.pid) {
      child.unref();
      return state;
    }
    if (exited !== undefined) {
      const reason = lastError(mode, before) ??
        `it exited with code ${exited.code}`;
      throw new UserError(`the ${mode} example did not start: ${reason}`);
    }
    await new Promise((done) => setTimeout(done, 50));
  }
  try {
    child.kill("SIGTERM");
  } catch {
    // Already gone.
  }
  await child.status;
  throw new UserError(
    `the ${mode} example did not start within ${timeoutMs / 1000} s (see ${
      logFile(mode)
    })`,
  );
}

/** How to run this program again: `deno run -A <main module>`, or the compiled binary itself. */
function selfInvocation(): string[] {
  const executable = Deno.execPath().split(/[\\/]/).pop() ?? "";
  return /^deno(\.exe)?$/.test(executable)
    ? ["run", "-A", Deno.mainModule]
    : [];
}

function logSize(mode: DetachedMode): number {
  try {
    return Deno.statSync(logFile(mode)).size;
  } catch {
    return 0;
  }
}

/** The child's `error:` line written after `offset`, if any. */
function lastError(mode: DetachedMode, offset: number): string | undefined {
  try {
    const text = new TextDecoder().decode(
      Deno.readFileSync(logFile(mode)).subarray(offset),
    );
    const line = text.split("\n").reverse().find((entry) =>
      entry.startsWith("error: ")
    );
    return line?.slice("error: ".length);
  } catch {
    return undefined;
  }
}

/** Sends SIGTERM to `pid`, waits up to `graceMs` while `alive()`, then SIGKILL (and waits for it to go). */
export async function stopProcess(
  pid: number,
  alive: () => boolean,
  graceMs: number,
): Promise<void> {
  const send = (signal: Deno.Signal) => {
    try {
      Deno.kill(pid, signal);
    } catch {
      // Already gone.
    }
  };
  send("SIGTERM");
  const deadline = Date.now() + graceMs;
  while (alive() && Date.now() < deadline) {
    await new Promise((done) => setTimeout(done, 50));
  }
  if (!alive()) return;
  send("SIGKILL");
  const killed = Date.now() + 5000;
  while (alive() && Date.now() < killed) {
    await new Promise((done) => setTimeout(done, 50));
  }
}

/** A process `down` stops besides the background example itself (e.g. its Envoy). */
export interface Companion {
  pid: number;
  /** What it is, for `stopped <what> (pid N)`. */
  what: string;
  /** Whether it is still that very process. */
  alive: () => boolean;
}

/** How `down` of a detached mode runs. */
export interface StopOptions {
  /** Print what would be signalled and removed; signal and remove nothing. */
  dryRun?: boolean;
  /**
   * The mode's own processes, found before the background example stops
   * (`supervisors` are its verified pids); each still alive after it
   * stopped is stopped too.
   */
  companions?: (
    state: LocalState | undefined,
    supervisors: number[],
  ) => Companion[];
  /** What the mode made besides the state and log files (removed too). */
  paths?: string[];
}

/** The state file, the log (and its rotated copy) and leftovers of atomic writes of `mode`. */
function madeFiles(mode: DetachedMode): string[] {
  const dir = dirname(stateFile(mode));
  const files = [stateFile(mode), logFile(mode), `${logFile(mode)}.1`];
  try {
    for (const entry of Deno.readDirSync(dir)) {
      if (
        /^\S+\.json\.\d+\.tmp$/.test(entry.name) &&
        entry.name.startsWith(`${mode}.json.`)
      ) {
        files.push(join(dir, entry.name));
      }
    }
  } catch {
    // No state directory: nothing made.
  }
  return files;
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops the detached example of `mode` and removes what it made. The example
 * is the recorded pid only when that is provably it (start time, program,
 * `up <mode> --detached-in <this state dir>`); with no usable state file, the
 * process with that command line. Then the mode's companions still alive,
 * then the state, the log and the mode's `paths`. Idempotent; with `dryRun`
 * it prints what it would do and does nothing.
 */
export async function stopDetached(
  mode: DetachedMode,
  options: StopOptions = {},
): Promise<void> {
  const reading = readStateFile(mode);
  const state = reading.state;
  const recorded = state !== undefined &&
    isRunning(state.pid, mode, state.startTime);
  const supervisors = recorded ? [state.pid] : findDetached(mode);
  const startTimes = new Map(
    supervisors.map((pid) => [pid, processStartTime(pid)]),
  );
  const companions = options.companions?.(state, supervisors) ?? [];
  const paths = [...madeFiles(mode), ...(options.paths ?? [])];
  const how = recorded
    ? ""
    : reading.problem === "missing"
    ? `, found by its command line: no ${stateFile(mode)}`
    : reading.problem === "unreadable"
    ? `, found by its command line: ${
      stateFile(mode)
    } is unreadable (${reading.reason})`
    : `, found by its command line: the recorded pid ${state!.pid} is not it`;
  const describe = (pid: number) =>
    `the ${mode} example (pid ${pid}${
      recorded ? `, ${state.listen}` : ""
    }${how})`;

  if (options.dryRun) {
    for (const pid of supervisors) {
      console.log(
        `would stop ${describe(pid)}: SIGTERM, then SIGKILL after 10 s`,
      );
    }
    for (const companion of companions) {
      console.log(
        `would stop ${companion.what} (pid ${companion.pid}) if still running then: SIGTERM, then SIGKILL after 5 s`,
      );
    }
    const present = paths.filter(exists);
    if (supervisors.length === 0 && companions.length === 0) {
      console.log(`nothing to stop: no ${mode} example is running`);
    }
    console.log(
      present.length === 0
        ? "nothing to remove"
        : `would remove ${present.join(", ")}`,
    );
    return;
  }

  for (const pid of supervisors) {
    const startTime = startTimes.get(pid);
    await stopProcess(
      pid,
      () => isRunning(pid, mode, startTime),
      10_000,
    );
    console.log(`stopped ${describe(pid)}`);
  }
  for (const companion of companions) {
    if (!companion.alive()) continue;
    await stopProcess(companion.pid, companion.alive, 5000);
    console.log(`stopped ${companion.what} (pid ${companion.pid})`);
  }
  if (supervisors.length === 0) {
    if (state !== undefined) {
      console.log(
        state.stopped !== undefined
          ? `the ${mode} example (pid ${state.pid}) had stopped: ${state.stopped}; removed its state`
          : `the ${mode} example (pid ${state.pid}) was not running; removed its state`,
      );
    } else if (reading.problem === "unreadable") {
      console.log(
        `nothing to stop: no ${mode} example of ${stateDir()} is running (${
          stateFile(mode)
        } is unreadable: ${reading.reason})`,
      );
    } else if (companions.length === 0) {
      console.log(
        `nothing to stop: no ${mode} example is running (no ${
          stateFile(mode)
        })`,
      );
    }
  }
  const removed: string[] = [];
  for (const path of paths) {
    if (!exists(path)) continue;
    try {
      Deno.removeSync(path, { recursive: true });
      removed.push(path);
    } catch (error) {
      throw new UserError(
        `could not remove ${path}: ${fileErrorReason(error)}`,
      );
    }
  }
  if (removed.length > 0) console.log(`removed ${removed.join(", ")}`);
}

/**
 * Refuses to start a second example of `mode` while one runs in the
 * background (the background process itself passes). A missing or
 * unreadable state file does not hide one: its command line names this
 * state directory.
 */
export function refuseSecondExample(mode: DetachedMode): void {
  const running = readState(mode);
  const article = /^[aeiou]/.test(mode) ? "an" : "a";
  if (
    running !== undefined && running.pid !== Deno.pid &&
    isRunning(running.pid, mode, running.startTime)
  ) {
    throw new UserError(
      `${article} ${mode} example is already running (pid ${running.pid}, ${running.listen}): stop it with 'wasmerang down ${mode}'`,
    );
  }
  const found = findDetached(mode).filter((pid) => pid !== running?.pid);
  if (found.length > 0 && !isDetachedChild()) {
    throw new UserError(
      `${article} ${mode} example is already running (pid ${
        found[0]
      }; its state file ${
        stateFile(mode)
      } is missing or unreadable): stop it with 'wasmerang down ${mode}'`,
    );
  }
}

/**
 * The command-line flags that hand `options` to the background process:
 * `values` as given, `paths` made absolute (the child may run elsewhere).
 */
export function flagsFor<Name extends string>(
  options: Partial<Record<Name, string>>,
  values: readonly Name[],
  paths: readonly Name[] = [],
): string[] {
  const args: string[] = [];
  for (const flag of values) {
    const value = options[flag];
    if (value !== undefined) args.push(flagName(flag), value);
  }
  for (const flag of paths) {
    const value = options[flag];
    if (value !== undefined) args.push(flagName(flag), resolve(value));
  }
  return args;
}

/** `--dry-run` for `dryRun`: the flag as the user typed it. */
function flagName(option: string): string {
  return `--${
    option.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)
  }`;
}
