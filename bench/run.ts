/**
 * `deno task bench`: every benchmark in one run, side by side, written to
 * bench/RESULTS.md with the command, the machine and the versions.
 *
 * 1. Filter cost: bench/filter_bench.ts under `deno bench --json`.
 * 2. Data plane: connections/s and p50/p99 time-to-banner, then MB/s of a
 *    64 MiB echo, for (a) direct to an egress server, (b) through
 *    `wasmerang up local` in its own process, (b′) the same proxy alone in its
 *    own process, (c) nginx's stream module (`worker_processes 1`, then
 *    `auto`), (h) HAProxy in tcp mode — all against the same egress servers
 *    (those of `up local`), with the same client, sources, count and
 *    concurrency — and a real Envoy (one worker) six ways: (e) tcp_proxy
 *    alone, (en) Envoy's native `set_filter_state` + CEL equivalent, (e0)
 *    the no-op module, (el) the lean two-call module, (e2) the filter
 *    `standalone` and (ei) `istio`; each proxy's CPU time per connection
 *    from /proc; the floors (b″, d, d′) of bench/proxy_only.ts.
 * 3. Instructions per connection in those Envoys, counted by callgrind
 *    (bench/instructions.ts), with the functions behind the filter's extra
 *    over native.
 * 4. Build: `wasmerang build` seconds, the .wasm size; CLI start-up of
 *    `route` and `--help` beside `deno eval 0` (bench/startup.ts).
 *
 * Options: `--count N` (connections per target and round, default 10000),
 * `--rounds N` (rounds over all targets, default 5; figures are medians),
 * `--concurrency N` (default 32), `--out PATH` (default bench/RESULTS.md),
 * `--no-nginx`, `--no-haproxy`, `--no-envoy`, `--no-callgrind` (no counted
 * breakdown), `--targets KEYS` (only those
 * data-plane targets, e.g. `b2,d2,c,h`), `--help`. The work is split by concern:
 * bench/targets.ts starts what is measured, bench/measure.ts measures it,
 * bench/report.ts writes the results.
 *
 * @module
 */
import { buildBench } from "./build_cost.ts";
import { filterCost } from "./filter_cost.ts";
import { measureTargets, type TargetResult } from "./measure.ts";
import type { HaproxyInstall } from "./haproxy.ts";
import type { NginxInstall } from "./nginx.ts";
import { type Options, parseArgs, ROOT, USAGE } from "./options.ts";
import { loadAverage, machine, renderResults } from "./report.ts";
import { ENVOY_KEYS, startTargets } from "./targets.ts";
import { ENVOY_VARIANTS } from "./envoy.ts";
import { countInstructions, type InstructionFigures } from "./instructions.ts";

async function main(): Promise<void> {
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
    console.log(USAGE);
    return;
  }
  let options: Options;
  try {
    options = parseArgs(Deno.args);
  } catch (error) {
    console.error(`bench: ${(error as Error).message}`);
    Deno.exit(2);
  }
  const command = ["deno task bench", ...Deno.args].join(" ");
  const startedAt = new Date();
  const loadBefore = loadAverage();
  const log = (line: string) => console.error(line);

  log("filter cost: deno bench --json bench/filter_bench.ts");
  const filter = await filterCost();

  log("data plane");
  const dataPlane = await dataPlaneBench(options, log);

  log("instructions per connection in Envoy: callgrind");
  const instructions = await instructionsBench(options, log);

  log("build and start-up");
  const build = await buildBench();

  const markdown = renderResults({
    command,
    startedAt,
    options,
    machine: await machine(dataPlane.nginx, dataPlane.haproxy, {
      before: loadBefore,
      after: loadAverage(),
    }),
    filter,
    targets: dataPlane.targets,
    nginxNote: dataPlane.nginxNote,
    haproxyNote: dataPlane.haproxyNote,
    envoyNote: dataPlane.envoyNote,
    instructions,
    build,
  });
  await Deno.writeTextFile(options.out, markdown);
  // The file is part of the repository: keep it as `deno fmt` wants it.
  await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--quiet", options.out],
    cwd: ROOT,
  }).output();
  console.log(await Deno.readTextFile(options.out));
  log(`written to ${options.out}`);
}

/** Starts the targets, measures them, and stops them all again. */
async function dataPlaneBench(
  options: Options,
  log: (line: string) => void,
): Promise<{
  targets: TargetResult[];
  nginx?: NginxInstall;
  nginxNote?: string;
  haproxy?: HaproxyInstall;
  haproxyNote?: string;
  envoyNote?: string;
}> {
  const work = await Deno.makeTempDir({ prefix: "wasmerang-bench-" });
  const stops: (() => Promise<void>)[] = [];
  try {
    const started = await startTargets(options, work, stops, log);
    const targets = await measureTargets(started.plan, options, log);
    return {
      targets,
      nginx: started.nginx,
      nginxNote: started.nginxNote,
      haproxy: started.haproxy,
      haproxyNote: started.haproxyNote,
      envoyNote: started.envoyNote,
    };
  } finally {
    for (const stop of stops.reverse()) await stop();
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

/**
 * The counted breakdown for the Envoy targets asked for, or why it was not
 * made (skipped, or valgrind or Envoy missing).
 */
async function instructionsBench(
  options: Options,
  log: (line: string) => void,
): Promise<InstructionFigures | string> {
  if (!options.callgrind) return "Not counted (--no-callgrind).";
  if (!options.envoy) return "Not counted (--no-envoy).";
  const variants = ENVOY_VARIANTS.filter((variant) =>
    options.targets === undefined ||
    options.targets.includes(ENVOY_KEYS[variant])
  );
  if (variants.length === 0) return "Not counted: no Envoy target asked for.";
  try {
    return await countInstructions({ variants, log });
  } catch (error) {
    const message = `Not counted: ${(error as Error).message}`;
    log(`  ${message}`);
    return message;
  }
}

if (import.meta.main) {
  await main();
}
