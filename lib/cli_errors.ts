/**
 * The one place that turns a failure into what the user sees: an expected
 * failure (a usage mistake, a path that cannot be used, a module that does not
 * load or traps) is one line and exit 1 or 2; anything else is a bug, said so,
 * with its trace.
 */
import { CommanderError } from "commander";
import {
  ConfigurationRejectedError,
  WasmLoadError,
  WasmTrapError,
  WasmVmFailedError,
} from "../host/errors.ts";
import { UserError } from "./errors.ts";

/** What to print and the exit code for a failure that reached the top of the CLI. */
export interface FailureReport {
  /** Lines for stderr. */
  lines: string[];
  /** Process exit code. */
  exitCode: number;
}

/** Deno's file-system messages: `Not a directory (os error 20): readfile 'a/b'`. */
const OS_ERROR =
  /^(.+?) \(os error \d+\)(?:: (\w+) '([^']*)'(?: -> '([^']*)')?)?$/;

const OPERATIONS: Record<string, string> = {
  readfile: "read",
  writefile: "write",
  open: "open",
  mkdir: "create the folder",
  rename: "write",
  remove: "remove",
  stat: "read",
  lstat: "read",
  readdir: "list",
  copyfile: "copy to",
  chmod: "change the mode of",
};

function fixFor(reason: string): string {
  const text = reason.toLowerCase();
  if (text.includes("not a directory")) {
    return "a part of the path is a file, not a folder: choose another path";
  }
  if (text.includes("is a directory")) return "it is a folder: give a file";
  if (text.includes("permission denied") || text.includes("read-only")) {
    return "choose a path you can write";
  }
  if (text.includes("no such file")) {
    return "check the path (and that its folder can be created)";
  }
  return "check the path";
}

/** One line for a file-system error, or undefined when `error` is not one. */
function fileSystemLine(error: Error): string | undefined {
  const match = OS_ERROR.exec(error.message);
  if (!match) return undefined;
  const [, reason, operation, path, target] = match;
  const what = operation
    ? `cannot ${OPERATIONS[operation] ?? operation} ${target ?? path}`
    : "a file operation failed";
  const stateDir = Deno.env.get("WASMERANG_STATE_DIR");
  const fromState = stateDir && (path ?? "").startsWith(stateDir)
    ? ` (from WASMERANG_STATE_DIR=${stateDir}: set it to a folder you can write, or unset it)`
    : "";
  return `${what}: ${reason.toLowerCase()}${fromState}; ${fixFor(reason)}`;
}

/** Maps a failure to its report. Never throws. */
export function describeFailure(error: unknown): FailureReport {
  const line = (text: string, exitCode = 1): FailureReport => ({
    lines: [`wasmerang: ${text}`],
    exitCode,
  });
  if (error instanceof CommanderError) {
    if (error.exitCode === 0 || error.code === "commander.helpDisplayed") {
      return { lines: [], exitCode: 0 };
    }
    const message = error.message.replace(/^error: /, "").replace(
      /\s*\n\s*/g,
      " ",
    );
    const invalid =
      /^option '(-[\w-]+)[^']*' argument '(.*)' is invalid\. (.*)$/
        .exec(message);
    if (invalid) {
      const [, flag, value, reason] = invalid;
      return line(`${flag} "${value}": ${reason}`, 2);
    }
    return line(`${message} (see 'wasmerang --help')`, 2);
  }
  if (error instanceof UserError) return line(error.message, error.exitCode);
  if (error instanceof WasmLoadError) {
    return line(
      `the module cannot be loaded: ${error.message} (give a proxy-wasm filter, e.g. one from 'wasmerang build')`,
    );
  }
  if (
    error instanceof WasmTrapError || error instanceof WasmVmFailedError
  ) {
    return line(
      `the filter trapped: ${error.message} (run 'wasmerang route --wasm FILE' on it to see which input)`,
    );
  }
  if (error instanceof ConfigurationRejectedError) return line(error.message);
  if (error instanceof Error) {
    const fileSystem = fileSystemLine(error);
    if (fileSystem) return line(fileSystem);
  }
  const trace = error instanceof Error
    ? error.stack ?? String(error)
    : String(error);
  return {
    lines: [
      "wasmerang: this is a bug in wasmerang, not a mistake of yours; please report it with this trace:",
      trace,
    ],
    exitCode: 1,
  };
}

/** Prints the report of a failure on stderr and returns the exit code. */
export function reportFailure(error: unknown): number {
  const report = describeFailure(error);
  for (const text of report.lines) console.error(text);
  return report.exitCode;
}

/**
 * Routes a failure that escapes every `await` (an unhandled rejection, an
 * uncaught error in a callback) through {@link reportFailure}, so that it is
 * reported like any other and never as the compiler's `abort(...)` noise.
 * The process exits after the other listeners of the event have run.
 */
export function catchStrayFailures(): void {
  const stray = (event: Event, error: unknown) => {
    event.preventDefault();
    const code = reportFailure(error);
    setTimeout(() => Deno.exit(code), 0);
  };
  globalThis.addEventListener(
    "unhandledrejection",
    (event) => stray(event, event.reason),
  );
  globalThis.addEventListener("error", (event) => stray(event, event.error));
}
