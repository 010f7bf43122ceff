/**
 * CLI start-up: wall time from spawn to exit of `wasmerang route 10.0.0.2
 * 10.0.0.3` and `wasmerang --help` (deno run -A cli.ts, warm cache), side by
 * side with `deno eval 0`, Deno's own floor. The three commands take turns,
 * so that a change of load on the machine falls on all of them; each figure
 * is the median of the runs, after one warm-up run each.
 *
 * Used by bench/run.ts; `deno run -A bench/startup.ts [runs]` prints the
 * figures alone.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { median } from "./stats.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const CLI = join(ROOT, "cli.ts");

/** One command's start-up times. */
export interface StartupFigure {
  /** What was run, as a user would type it. */
  label: string;
  medianMs: number;
  /** Every measured run, in milliseconds, in the order they ran. */
  runs: number[];
}

const COMMANDS: { label: string; args: string[] }[] = [
  { label: "deno eval 0", args: ["eval", "0"] },
  {
    label: "wasmerang route 10.0.0.2 10.0.0.3",
    args: ["run", "-A", CLI, "route", "10.0.0.2", "10.0.0.3"],
  },
  { label: "wasmerang --help", args: ["run", "-A", CLI, "--help"] },
];

async function timeOnce(args: string[]): Promise<number> {
  const started = performance.now();
  const result = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const ms = performance.now() - started;
  if (!result.success) {
    throw new Error(
      `deno ${args.join(" ")} failed: ${
        new TextDecoder().decode(result.stderr)
      }`,
    );
  }
  return ms;
}

/** Measures `deno eval 0`, `route` and `--help`, `runs` times each, in turns. */
export async function startupBench(runs = 10): Promise<StartupFigure[]> {
  const times = COMMANDS.map(() => [] as number[]);
  for (let round = -1; round < runs; round++) {
    for (const [i, command] of COMMANDS.entries()) {
      const ms = await timeOnce(command.args);
      if (round >= 0) times[i].push(ms); // round -1 warms the cache
    }
  }
  return COMMANDS.map((command, i) => ({
    label: command.label,
    medianMs: median(times[i]),
    runs: times[i],
  }));
}

/** Markdown lines: each command's median, and its ratio to `deno eval 0`. */
export function renderStartup(figures: StartupFigure[]): string[] {
  const floor = figures[0].medianMs;
  return figures.map((figure, i) =>
    `- \`${figure.label}\`${
      i === 0 ? "" : " (deno run -A cli.ts)"
    } start-up to exit: median ${figure.medianMs.toFixed(0)} ms${
      i === 0 ? "" : ` (${(figure.medianMs / floor).toFixed(1)}× deno eval 0)`
    } of ${figure.runs.length} runs (${
      [...figure.runs].sort((x, y) => x - y).map((ms) => ms.toFixed(0)).join(
        ", ",
      )
    } ms)`
  );
}

if (import.meta.main) {
  const runs = Number(Deno.args[0] ?? 10);
  if (!Number.isInteger(runs) || runs < 1) {
    console.error("usage: deno run -A bench/startup.ts [runs]");
    Deno.exit(2);
  }
  console.log(renderStartup(await startupBench(runs)).join("\n"));
  console.log(`load average: ${Deno.loadavg().join(" ")}`);
}
