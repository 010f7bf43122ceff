/**
 * One Envoy process: started with `--disable-hot-restart` (so several run
 * side by side), its log read line by line, ready when admin `/ready`
 * answers 200, stopped with SIGTERM (SIGKILL after 5 s). When it fails, the
 * error is Envoy's own first error line. Where util-linux's `setpriv` is
 * present (Linux), Envoy gets SIGTERM when the process that started it dies,
 * even by SIGKILL, so none is left holding the ports.
 *
 * @module
 */
import { adminReady } from "./admin.ts";
import { UserError } from "../errors.ts";
import type { EnvoyBinary } from "./binary.ts";
import { isFile } from "../files.ts";

/** How to start Envoy. */
export interface EnvoyProcessOptions {
  /** The Envoy to run. */
  envoy: EnvoyBinary;
  /** The bootstrap file. */
  bootstrap: string;
  /** Admin `host:port`, to poll `/ready`. */
  admin: string;
  /** Worker threads (Envoy's `--concurrency`); default Envoy's own. */
  concurrency?: number;
  /** Each line Envoy writes to stderr (its log). */
  onLog?: (line: string) => void;
  /** Each line Envoy writes to stdout (the access log). */
  onStdout?: (line: string) => void;
  /** How long to wait for `/ready` (default 30 s). */
  readyTimeoutMs?: number;
  /** More command-line arguments (e.g. `--log-path FILE`). */
  extraArgs?: string[];
}

/** A running Envoy. */
export interface EnvoyProcess {
  /** Envoy's process id. */
  readonly pid: number;
  /** Every log line so far. */
  readonly log: readonly string[];
  /** Resolves with a one-line reason when Envoy exits. */
  readonly exited: Promise<string>;
  /** Stops Envoy and waits for it to exit. */
  stop(): Promise<void>;
}

/** One of Envoy's log lines: `[time][thread][level][component] [file:line] message`. */
const LOG_LINE = /^\[[^\]]+\]\[\d+\]\[(\w+)\]\[([\w-]+)\] \[[^\]]+\] (.*)$/;

/** One of Envoy's log lines taken apart; undefined for a line outside its log format. */
export function parseLogLine(
  line: string,
): { level: string; component: string; message: string } | undefined {
  const match = line.match(LOG_LINE);
  return match === null
    ? undefined
    : { level: match[1], component: match[2], message: match[3] };
}

/**
 * A proxy-wasm filter's message in one of Envoy's log lines
 * (`… [wasm] [… context.cc:…] wasm log <plugin> <root id> [<vm id>]: <message>`),
 * with its level; undefined for any other line.
 */
export function filterLogMessage(
  line: string,
): { level: string; message: string } | undefined {
  const parsed = parseLogLine(line);
  if (parsed === undefined || parsed.component !== "wasm") return undefined;
  const message = parsed.message.match(/^wasm log [^:]*: (.*)$/);
  return message === null
    ? undefined
    : { level: parsed.level, message: message[1] };
}

/**
 * Every error and critical line of Envoy's log, without the log prefix (a
 * filter's own message as it wrote it), in order, each once.
 */
export function envoyErrorLines(log: readonly string[]): string[] {
  const lines: string[] = [];
  for (const line of log) {
    const parsed = parseLogLine(line);
    if (!parsed || !["error", "critical"].includes(parsed.level)) continue;
    const message = filterLogMessage(line)?.message ?? parsed.message;
    if (!lines.includes(message)) lines.push(message);
  }
  return lines;
}

/**
 * The line that says why Envoy failed: its first error or critical log
 * line (a filter's own message preferred as written), else the last line it
 * wrote outside its log format.
 */
export function envoyErrorLine(log: readonly string[]): string | undefined {
  const first = envoyErrorLines(log)[0];
  if (first !== undefined) return first;
  // Envoy prints a fatal configuration error as a bare last line.
  return log.filter((line) => line.trim() !== "" && !LOG_LINE.test(line))
    .at(-1)?.trim();
}

async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop() ?? "";
    for (const line of parts) onLine(line);
  }
  if (rest !== "") onLine(rest);
}

/** Where util-linux's `setpriv` may be: it sets the parent-death signal, then runs Envoy in its place. */
const SETPRIV = ["/usr/bin/setpriv", "/bin/setpriv"];

/** Starts Envoy and resolves once admin `/ready` says 200; on failure nothing is left running. */
export async function startEnvoy(
  options: EnvoyProcessOptions,
): Promise<EnvoyProcess> {
  const args = [
    "-c",
    options.bootstrap,
    "--disable-hot-restart",
    "--log-level",
    "info",
    // The access log goes to stdout, which Envoy flushes every 10 s by
    // default when it is not a terminal: a line per connection should show
    // as it happens.
    "--file-flush-interval-msec",
    "100",
  ];
  if (options.concurrency !== undefined) {
    args.push("--concurrency", String(options.concurrency));
  }
  args.push(...(options.extraArgs ?? []));
  const setpriv = SETPRIV.find(isFile);
  const child = new Deno.Command(setpriv ?? options.envoy.path, {
    args: setpriv === undefined
      ? args
      : ["--pdeathsig", "SIGTERM", "--", options.envoy.path, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const log: string[] = [];
  const reading = Promise.all([
    readLines(child.stderr, (line) => {
      log.push(line);
      options.onLog?.(line);
    }),
    readLines(child.stdout, (line) => options.onStdout?.(line)),
  ]);
  let done = false;
  const exited = child.status.then(async (status) => {
    done = true;
    await reading.catch(() => {});
    const why = envoyErrorLine(log);
    return `Envoy exited (${
      status.signal ? `signal ${status.signal}` : `code ${status.code}`
    })${why ? `: ${why}` : ""}`;
  });
  const stop = async () => {
    if (!done) {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already gone.
      }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // Already gone.
        }
      }, 5000);
      await child.status;
      clearTimeout(timer);
    }
    await reading.catch(() => {});
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  while (true) {
    if (done) {
      throw new UserError(
        `Envoy refused to start: ${
          (await exited).replace(/^Envoy exited \([^)]*\): /, "")
        }`,
      );
    }
    if (Date.now() > deadline) {
      await stop();
      throw new UserError(
        `Envoy was not ready within ${
          (options.readyTimeoutMs ?? 30_000) / 1000
        } s (admin http://${options.admin}/ready)`,
      );
    }
    if (await adminReady(options.admin, 1000)) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { pid: child.pid, log, exited, stop };
}
