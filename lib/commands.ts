/**
 * Running external programs (docker, kind, kubectl, istioctl) and plans of
 * such commands. A {@link Plan} is a list of steps that either prints itself
 * (`--dry-run`: the exact commands and files, nothing run or written) or runs
 * each step announced with a spinner through `lib/ui.ts` `step()`.
 *
 * @example
 * ```ts
 * import { Plan } from "./commands.ts";
 * const plan = new Plan()
 *   .run("Start the containers", ["docker", "compose", "-f", "x/docker-compose.yaml", "up", "-d"])
 *   .task("Wait for Envoy", "wait for http://127.0.0.1:9901/ready (up to 60 s)", async () => {});
 * if (dryRun) console.log(plan.render());
 * else await plan.execute();
 * ```
 */
import { UserError } from "./errors.ts";
import { step } from "./ui.ts";

/** What a finished command left behind. */
export interface CommandResult {
  /** Exit code; 124 when the command was stopped by its timeout. */
  code: number;
  /** Everything the command wrote to standard output, decoded as UTF-8. */
  stdout: string;
  /** Everything the command wrote to standard error, decoded as UTF-8. */
  stderr: string;
  /** True when the command ran past its timeout and was killed. */
  timedOut: boolean;
}

/** How to run one command. */
export interface RunOptions {
  /** Working directory of the command; default the current one. */
  cwd?: string;
  /** Extra environment variables (added to the inherited environment). */
  env?: Record<string, string>;
  /** Bytes or text written to the command's standard input, then closed. */
  stdin?: string | Uint8Array;
  /** Kill the command after this many milliseconds. */
  timeoutMs?: number;
}

/**
 * Runs `argv` to completion and captures its output. Never throws for a
 * non-zero exit; throws a {@link UserError} when the program does not exist.
 */
export async function runCommand(
  argv: string[],
  options: RunOptions = {},
): Promise<CommandResult> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs);
  try {
    const command = new Deno.Command(argv[0], {
      args: argv.slice(1),
      cwd: options.cwd,
      env: options.env,
      stdin: options.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
      signal: controller.signal,
    });
    const child = command.spawn();
    if (options.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      const bytes = typeof options.stdin === "string"
        ? new TextEncoder().encode(options.stdin)
        : options.stdin;
      await writer.write(bytes).catch(() => {});
      await writer.close().catch(() => {});
    }
    const output = await child.output();
    const decoder = new TextDecoder();
    return {
      code: timedOut ? 124 : output.code,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
      timedOut,
    };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new UserError(
        `${argv[0]} was not found on PATH (run 'wasmerang doctor')`,
      );
    }
    throw error;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/**
 * Runs `argv` and returns its standard output; a non-zero exit becomes a
 * {@link UserError} naming the command and the last lines it printed.
 */
export async function runChecked(
  argv: string[],
  options: RunOptions = {},
): Promise<string> {
  const result = await runCommand(argv, options);
  if (result.code !== 0) {
    const why = result.timedOut
      ? `timed out after ${options.timeoutMs} ms`
      : `exited with ${result.code}`;
    const tail = lastLines(result.stderr.trim() || result.stdout.trim(), 5);
    throw new UserError(
      `\`${shellQuote(argv)}\` ${why}${tail ? `:\n${indent(tail)}` : ""}`,
    );
  }
  return result.stdout;
}

/** The last `count` lines of `text`. */
export function lastLines(text: string, count: number): string {
  return text.split("\n").slice(-count).join("\n");
}

function indent(text: string): string {
  return text.split("\n").map((line) => `    ${line}`).join("\n");
}

/** Quotes `argv` for a POSIX shell, so a printed command can be pasted as is. */
export function shellQuote(argv: string[]): string {
  return argv.map((arg) =>
    /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)
      ? arg
      : `'${arg.replaceAll("'", `'"'"'`)}'`
  )
    .join(" ");
}

/** Runs a command and captures its output (injectable for tests). */
export type Runner = (argv: string[]) => Promise<CommandResult>;

/** The {@link Runner} for read-only queries (`kind get`, `kubectl get`): 30 s at most. */
export function runQuery(argv: string[]): Promise<CommandResult> {
  return runCommand(argv, { timeoutMs: 30_000 });
}

/** One step of a {@link Plan}; `skipped` says why it does not run (its effect is already there). */
export type PlanStep =
  | {
    kind: "run";
    title: string;
    argv: string[];
    options: RunOptions;
    skipped?: string;
  }
  | {
    kind: "task";
    title: string;
    description: string;
    work: () => Promise<void>;
    skipped?: undefined;
  };

/**
 * An ordered list of steps: commands to run and in-process tasks (write files,
 * wait for an endpoint). `render()` is the dry run; `execute()` does it, one
 * spinner per step, stopping at the first failure.
 */
export class Plan {
  /** The steps, in the order they run. */
  readonly steps: PlanStep[] = [];

  /**
   * Adds a command; `execute()` fails with its output when it exits non-zero.
   * With `skipped`, the command is only shown, with the reason.
   */
  run(
    title: string,
    argv: string[],
    options: RunOptions = {},
    skipped?: string,
  ): this {
    this.steps.push({ kind: "run", title, argv, options, skipped });
    return this;
  }

  /** Adds in-process work, printed in a dry run as `description`. */
  task(title: string, description: string, work: () => Promise<void>): this {
    this.steps.push({ kind: "task", title, description, work });
    return this;
  }

  /**
   * The dry run: one line per step, commands as pasteable shell (with `cd` when
   * they run elsewhere), tasks as `# description`, skipped commands as
   * `# skipped (why): command`.
   */
  render(): string {
    return this.steps.map((item) => {
      if (item.kind === "task") {
        return item.description.split("\n").map((line) => `# ${line}`).join(
          "\n",
        );
      }
      const env = Object.entries(item.options.env ?? {}).map(([key, value]) =>
        `${key}=${shellQuote([value])} `
      )
        .join("");
      const command = `${env}${shellQuote(item.argv)}`;
      const line = item.options.cwd
        ? `(cd ${shellQuote([item.options.cwd])} && ${command})`
        : command;
      return item.skipped === undefined
        ? line
        : `# skipped (${item.skipped}): ${line}`;
    }).join("\n");
  }

  /** Runs every step in order, each announced by `step()`; skipped ones say why. */
  async execute(): Promise<void> {
    for (const item of this.steps) {
      if (item.skipped !== undefined) {
        console.error(`✓ ${item.title}: skipped, ${item.skipped}`);
      } else if (item.kind === "task") await step(item.title, item.work);
      else {await step(item.title, async () =>
          void await runChecked(item.argv, item.options));}
    }
  }
}
