/**
 * Running an example in the background (`up local --detach`, `up envoy
 * --detach`): the command starts itself again with a marker in the
 * environment; that process logs to the mode's log file, records the state
 * once serving, and stops on SIGTERM (`down`) or when `stopped` resolves.
 *
 * @module
 */
import { resolve } from "node:path";
import { UserError } from "./errors.ts";
import { RotatingLog } from "./rotating_log.ts";
import { LineWriter } from "./line_writer.ts";
import {
  type DetachedMode,
  isRunning,
  type LocalState,
  logFile,
  readState,
  removeState,
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
  state: Omit<LocalState, "pid" | "logFile" | "startedAt">;
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
  writeState({
    ...example.state,
    pid: Deno.pid,
    logFile: logFile(mode),
    startedAt: new Date().toISOString(),
  }, mode);
  writeNow(`started: ${example.summary}`);
  const reason = await Promise.race([
    untilSignal().then(() => undefined),
    example.stopped ?? new Promise<never>(() => {}),
  ]);
  await example.close();
  removeState(Deno.pid, mode);
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
    args: [...selfInvocation(), "up", mode, ...args],
    env: { [DETACHED_ENV]: "1" },
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

/** Sends SIGTERM to `pid`, waits up to `graceMs` while `alive()`, then SIGKILL. */
export async function stopProcess(
  pid: number,
  alive: () => boolean,
  graceMs: number,
): Promise<void> {
  Deno.kill(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (alive() && Date.now() < deadline) {
    await new Promise((done) => setTimeout(done, 50));
  }
  if (alive()) Deno.kill(pid, "SIGKILL");
}

/**
 * Stops the detached example of `mode` (SIGTERM, then SIGKILL after 10 s),
 * calls `after` with its state so the mode can make sure of its own
 * processes, and removes the state. Idempotent.
 */
export async function stopDetached(
  mode: DetachedMode,
  after?: (state: LocalState) => Promise<void>,
): Promise<void> {
  const state = readState(mode);
  if (state === undefined) {
    console.log(
      `nothing to stop: no ${mode} example is running (no ${stateFile(mode)})`,
    );
    return;
  }
  const running = isRunning(state.pid, mode);
  if (running) {
    await stopProcess(state.pid, () => isRunning(state.pid, mode), 10_000);
  }
  await after?.(state);
  removeState(undefined, mode);
  console.log(
    running
      ? `stopped the ${mode} example (pid ${state.pid}, ${state.listen})`
      : `the ${mode} example (pid ${state.pid}) was not running; removed its state`,
  );
}

/**
 * Refuses to start a second example of `mode` while one runs in the
 * background (the background process itself passes).
 */
export function refuseSecondExample(mode: DetachedMode): void {
  const running = readState(mode);
  if (
    running !== undefined && isRunning(running.pid, mode) &&
    running.pid !== Deno.pid
  ) {
    const article = /^[aeiou]/.test(mode) ? "an" : "a";
    throw new UserError(
      `${article} ${mode} example is already running (pid ${running.pid}, ${running.listen}): stop it with 'wasmerang down ${mode}'`,
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
    if (value !== undefined) args.push(`--${flag}`, value);
  }
  for (const flag of paths) {
    const value = options[flag];
    if (value !== undefined) args.push(`--${flag}`, resolve(value));
  }
  return args;
}
