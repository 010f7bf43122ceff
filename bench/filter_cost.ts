/**
 * Filter cost: one connection's hooks through the real .wasm in the host vs
 * the same decision in plain TypeScript, from `deno bench --json
 * bench/filter_bench.ts`.
 *
 * @module
 */
import { join } from "node:path";
import { ROOT } from "./options.ts";

/** One configuration's filter cost, in nanoseconds per connection. */
export interface FilterRow {
  configuration: string;
  wasmNs: number;
  wasmP75Ns: number;
  plainNs: number;
}

/** Runs bench/filter_bench.ts and reads its averages. */
export async function filterCost(): Promise<FilterRow[]> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["bench", "-A", "--json", join(ROOT, "bench", "filter_bench.ts")],
    cwd: ROOT,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!output.success) throw new Error("deno bench failed");
  const report = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    benches: {
      group: string;
      baseline: boolean;
      results: { ok?: { avg: number; p75: number } }[];
    }[];
  };
  const rows: FilterRow[] = [];
  for (const configuration of ["standalone", "istio"]) {
    const group = report.benches.filter((bench) =>
      bench.group === `decision-${configuration}`
    );
    const wasm = group.find((bench) => !bench.baseline)?.results[0]?.ok;
    const plain = group.find((bench) => bench.baseline)?.results[0]?.ok;
    if (wasm === undefined || plain === undefined) {
      throw new Error(`no bench result for ${configuration}`);
    }
    rows.push({
      configuration,
      wasmNs: wasm.avg,
      wasmP75Ns: wasm.p75,
      plainNs: plain.avg,
    });
  }
  return rows;
}
