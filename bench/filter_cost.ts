/**
 * Filter cost: one connection through the host for the no-op and lean
 * reference modules and for the filter, from `deno bench --json
 * bench/filter_bench.ts` (interleaved rounds; each figure is the median of
 * the rounds' averages). `deno run -A bench/filter_cost.ts` prints them alone.
 *
 * @module
 */
import { join } from "node:path";
import { ROOT } from "./options.ts";
import { median } from "./stats.ts";

/** One subject's cost, in nanoseconds per connection. */
export interface FilterRow {
  /** "no-op module", "lean module", "filter (standalone)", "filter (istio)". */
  subject: string;
  /** Median over the rounds of each round's average. */
  ns: number;
  /** The lowest and highest round average. */
  range: [number, number];
}

/** The figures of one filter bench run. */
export interface FilterCost {
  rows: FilterRow[];
  rounds: number;
}

/** The row of `subject`, or a thrown error naming it. */
export function rowOf(cost: FilterCost, subject: string): FilterRow {
  const row = cost.rows.find((r) => r.subject === subject);
  if (row === undefined) throw new Error(`no bench result for ${subject}`);
  return row;
}

/** Runs bench/filter_bench.ts and reads its averages. */
export async function filterCost(): Promise<FilterCost> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["bench", "-A", "--json", join(ROOT, "bench", "filter_bench.ts")],
    cwd: ROOT,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!output.success) throw new Error("deno bench failed");
  const report = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    benches: { name: string; results: { ok?: { avg: number } }[] }[];
  };
  const bySubject = new Map<string, number[]>();
  for (const bench of report.benches) {
    const avg = bench.results[0]?.ok?.avg;
    const subject = bench.name.replace(/ #\d+$/, "");
    if (avg === undefined) throw new Error(`bench "${bench.name}" failed`);
    bySubject.set(subject, [...(bySubject.get(subject) ?? []), avg]);
  }
  const rows = [...bySubject].map(([subject, averages]): FilterRow => ({
    subject,
    ns: median(averages),
    range: [Math.min(...averages), Math.max(...averages)],
  }));
  return {
    rows,
    rounds: Math.min(...[...bySubject.values()].map((a) => a.length)),
  };
}

/** The filter-cost table and its ratios, as Markdown lines. */
export function renderFilterCost(cost: FilterCost): string[] {
  const n = (value: number, digits = 0) =>
    value.toLocaleString("en-US", {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
  const noop = rowOf(cost, "no-op module").ns;
  const lean = rowOf(cost, "lean module").ns;
  const filter = rowOf(cost, "filter (standalone)").ns;
  const leanRatio = lean / noop;
  const filterRatio = filter / lean;
  return [
    "| module | per connection (median of rounds) | lowest–highest round | ÷ no-op | ÷ lean |",
    "| --- | ---: | ---: | ---: | ---: |",
    ...cost.rows.map((row) =>
      `| ${row.subject} | ${n(row.ns)} ns | ${n(row.range[0])}–${
        n(row.range[1])
      } ns | ${n(row.ns / noop, 2)}× | ${n(row.ns / lean, 2)}× |`
    ),
    "",
    `- lean / no-op: ${n(leanRatio, 2)}× (goal ≤ 2.5×) — ${
      leanRatio <= 2.5 ? "met" : "not met"
    }.`,
    `- filter (standalone) / lean: ${n(filterRatio, 2)}× (goal ≤ 1.5×) — ${
      filterRatio <= 1.5 ? "met" : "not met"
    }.`,
  ];
}

if (import.meta.main) {
  const load = () => Deno.readTextFileSync("/proc/loadavg").split(" ", 3);
  const before = load();
  const cost = await filterCost();
  console.log(renderFilterCost(cost).join("\n"));
  console.log(
    `\n${cost.rounds} rounds; load average ${before.join(" ")} before, ${
      load().join(" ")
    } after`,
  );
}
