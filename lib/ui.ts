/**
 * Terminal output in kind's style: every long step announced with a spinner,
 * ✓ or ✗ when it ends, and a hint of what to run next. Progress goes to stderr
 * so that stdout stays clean for `--json` and pipes.
 */
// Full npm: specifiers, the versions deno.json pins (it names them so that
// `deno install` fetches them): mod.ts reaches this module, and another
// project importing mod.ts does not have our import map (mod_test.ts).
// deno-lint-ignore no-import-prefix
import { createSpinner } from "npm:nanospinner@1.2.2";
// deno-lint-ignore no-import-prefix
import Table from "npm:cli-table3@0.6.5";
import process from "node:process";

const interactive = Deno.stderr.isTerminal();

/**
 * Runs `work` as an announced step: a spinner while it runs, then ✓ with the
 * elapsed time, or ✗ and the error re-thrown.
 */
export async function step<T>(
  title: string,
  work: () => Promise<T>,
): Promise<T> {
  const started = performance.now();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)}s`;
  const spinner = interactive
    ? createSpinner(title, { stream: process.stderr }).start()
    : undefined;
  if (!spinner) console.error(`• ${title} …`);
  try {
    const result = await work();
    if (spinner) spinner.success({ text: `${title} (${elapsed()})` });
    else console.error(`✓ ${title} (${elapsed()})`);
    return result;
  } catch (error) {
    if (spinner) spinner.error({ text: title });
    else console.error(`✗ ${title}`);
    throw error;
  }
}

/** Prints the closing hint of a command: what to run next. */
export function hint(text: string): void {
  console.error(`\n${text}`);
}

/** Renders rows as a bordered table; colours only on a terminal. */
export function table(head: string[], rows: (string | number)[][]): string {
  const styled = Deno.stdout.isTerminal();
  const output = new Table({
    head,
    style: styled ? { head: ["cyan"] } : { head: [], border: [] },
    // No rule between body rows: one line per row reads better in a long probe.
    chars: { "mid": "", "left-mid": "", "mid-mid": "", "right-mid": "" },
  });
  output.push(...rows.map((row) => row.map(String)));
  return output.toString();
}
