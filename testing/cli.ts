// Running the CLI as a user meets it, for tests: a subprocess, its exit code
// and what it prints. Kept out of any *_test.ts file so that importing it
// does not register (and run) another file's tests.

const CLI = new URL("../cli.ts", import.meta.url).pathname;

/** What one CLI run printed. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** How to run the CLI. */
export interface CliOptions {
  /** Replaces PATH (e.g. a folder of stand-in tools, or an empty one). */
  path?: string;
  /** Added to the inherited environment (NO_COLOR=1 always). */
  env?: Record<string, string>;
  /** Working directory. */
  cwd?: string;
  /** Sets WASMERANG_STATE_DIR, where detached examples keep their state. */
  stateDir?: string;
  /** Kill the run after this long, so that a command that serves instead of failing cannot hang the suite. */
  timeoutMs?: number;
  /** Runs the CLI inside this network namespace (`ip netns exec`, root only). */
  netns?: string;
}

/**
 * The command `deno run -A cli.ts ...args` with `options`, stdout and stderr
 * piped: `.output()` for a run to its end, `.spawn()` for one that serves.
 */
export function cliCommand(
  args: string[],
  options: CliOptions = {},
): Deno.Command {
  const env: Record<string, string> = { NO_COLOR: "1", ...options.env };
  if (options.path !== undefined) env.PATH = options.path;
  if (options.stateDir !== undefined) {
    env.WASMERANG_STATE_DIR = options.stateDir;
  }
  const deno = [Deno.execPath(), "run", "-A", CLI, ...args];
  const argv = options.netns === undefined
    ? deno
    : ["ip", "netns", "exec", options.netns, ...deno];
  return new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd: options.cwd,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: options.timeoutMs === undefined
      ? undefined
      : AbortSignal.timeout(options.timeoutMs),
  });
}

/** Runs `deno run -A cli.ts ...args` and returns exit code, stdout and stderr. */
export async function runCli(
  args: string[],
  options: CliOptions = {},
): Promise<CliRun> {
  const output = await cliCommand(args, options).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}
