/**
 * `deno task bench`: every benchmark in one run, side by side, written to
 * bench/RESULTS.md with the command, the machine and the versions.
 *
 * 1. Filter cost: bench/filter_bench.ts under `deno bench --json`.
 * 2. Data plane: connections/s and p50/p99 time-to-banner, then MB/s of a
 *    64 MiB echo, for (a) direct to an egress server, (b) through
 *    `wasmerang up local` in its own process, (b′) the same proxy alone in its
 *    own process, (c) nginx's stream module (`worker_processes 1`, then
 *    `auto`) — all against the same egress servers (those of `up local`),
 *    with the same client, sources, count and concurrency.
 *    And a real Envoy (one worker), (e) with tcp_proxy alone and (e′) with the
 *    filter before it, with its CPU time per connection from /proc.
 * 3. Build: `wasmerang build` seconds, the .wasm size; CLI start-up of
 *    `route` and `--help` beside `deno eval 0` (bench/startup.ts).
 *
 * Options: `--count N` (connections per target and round, default 10000),
 * `--rounds N` (rounds over all targets, default 5; figures are medians),
 * `--concurrency N` (default 32), `--out PATH` (default bench/RESULTS.md),
 * `--no-nginx`, `--no-envoy`.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer } from "node:net";
import type { HostPort } from "../lib/address.ts";
import { decideCluster, DEFAULT_CONFIG } from "../lib/routing.ts";
import {
  type LoadResult,
  runLoad,
  sourceSpread,
  transfer,
  type TransferResult,
} from "./dataplane.ts";
import {
  accepts,
  ensureNginx,
  type NginxInstall,
  startNginx,
} from "./nginx.ts";
import { cpuSeconds, startEnvoyTarget } from "./envoy.ts";
import { findEnvoy } from "../lib/envoy/binary.ts";
import { renderStartup, startupBench, type StartupFigure } from "./startup.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const TRANSFER_BYTES = 64 * 1024 * 1024;
const WARMUP = 1000;

interface Options {
  count: number;
  rounds: number;
  concurrency: number;
  out: string;
  nginx: boolean;
  envoy: boolean;
}

function parseArgs(args: string[]): Options {
  const options: Options = {
    count: 10_000,
    rounds: 5,
    concurrency: 32,
    out: join(ROOT, "bench", "RESULTS.md"),
    nginx: true,
    envoy: true,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--count") options.count = Number(args[++i]);
    else if (arg === "--rounds") options.rounds = Number(args[++i]);
    else if (arg === "--concurrency") options.concurrency = Number(args[++i]);
    else if (arg === "--out") options.out = args[++i];
    else if (arg === "--no-nginx") options.nginx = false;
    else if (arg === "--no-envoy") options.envoy = false;
    else throw new Error(`unknown option ${arg}`);
  }
  if (
    !(options.count > 0) || !(options.concurrency > 0) ||
    !(options.rounds > 0)
  ) {
    throw new Error(
      "--count, --concurrency and --rounds take positive numbers",
    );
  }
  return options;
}

/** One data-plane target's figures over the rounds. */
interface TargetResult {
  key: string;
  label: string;
  /** Median connections per second, and the lowest and highest round. */
  connectionsPerSecond: number;
  rateRange: [number, number];
  /** Median of the rounds' p50 and p99 connect-to-banner times. */
  p50Ms: number;
  p99Ms: number;
  ok: number;
  errors: number;
  mismatches: number;
  errorSamples: string[];
  /** Median MB/s of the rounds' transfers that completed. */
  mbPerSecond?: number;
  transferErrors: string[];
  /** Median CPU time of the proxy process per measured connection, when known. */
  cpuUsPerConnection?: number;
}

async function main(): Promise<void> {
  const options = parseArgs(Deno.args);
  const command = ["deno task bench", ...Deno.args].join(" ");
  const startedAt = new Date();
  const loadBefore = loadAverage();
  const log = (line: string) => console.error(line);

  log("filter cost: deno bench --json bench/filter_bench.ts");
  const filter = await filterCost();

  log("data plane");
  const dataPlane = await dataPlaneBench(options, log);

  log("build and start-up");
  const build = await buildBench();

  const markdown = renderResults({
    command,
    startedAt,
    options,
    machine: await machine(dataPlane.nginx, {
      before: loadBefore,
      after: loadAverage(),
    }),
    filter,
    targets: dataPlane.targets,
    nginxNote: dataPlane.nginxNote,
    envoyNote: dataPlane.envoyNote,
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

// ---------------------------------------------------------------- filter cost

interface FilterRow {
  configuration: string;
  wasmNs: number;
  wasmP75Ns: number;
  plainNs: number;
}

async function filterCost(): Promise<FilterRow[]> {
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

// ---------------------------------------------------------------- data plane

async function dataPlaneBench(
  options: Options,
  log: (line: string) => void,
): Promise<{
  targets: TargetResult[];
  nginx?: NginxInstall;
  nginxNote?: string;
  envoyNote?: string;
}> {
  const [
    listen,
    egress1,
    egress2,
    proxyOnly,
    emptyProxy,
    barePipe,
    nginx1,
    nginxAuto,
    envoyBare,
    envoyBareAdmin,
    envoyFilter,
    envoyFilterAdmin,
  ] = await freePorts(12);
  const at = (port: number): HostPort => ({ host: "127.0.0.1", port });
  const text = (port: number) => `127.0.0.1:${port}`;
  const work = await Deno.makeTempDir({ prefix: "wasmerang-bench-" });
  const sources = sourceSpread();
  const parity = (source: string) =>
    decideCluster(`${source}:1`, "127.0.0.1:1", DEFAULT_CONFIG) ?? "egress1";
  let nginx: NginxInstall | undefined;
  let nginxNote: string | undefined;
  let envoyNote: string | undefined;
  const stops: (() => Promise<void>)[] = [];

  const up = spawnLogged(
    [
      "run",
      "-A",
      join(ROOT, "cli.ts"),
      "up",
      "local",
      "--listen",
      text(listen),
      "--egress1",
      text(egress1),
      "--egress2",
      text(egress2),
    ],
    join(work, "up-local.log"),
  );
  stops.push(up.stop);
  const proxy = spawnLogged(
    [
      "run",
      "-A",
      join(ROOT, "bench", "proxy_only.ts"),
      text(proxyOnly),
      text(egress1),
      text(egress2),
      join(work, "proxy-only-access.log"),
    ],
    join(work, "proxy-only.log"),
  );
  stops.push(proxy.stop);
  for (
    const [port, variant] of [[emptyProxy, "--empty-filter"], [
      barePipe,
      "--bare",
    ]] as const
  ) {
    const floor = spawnLogged(
      [
        "run",
        "-A",
        join(ROOT, "bench", "proxy_only.ts"),
        text(port),
        text(egress1),
        text(egress2),
        join(work, `proxy${variant}-access.log`),
        variant,
      ],
      join(work, `proxy${variant}.log`),
    );
    stops.push(floor.stop);
  }
  try {
    await waitAccepts(at(listen), "up local");
    await waitAccepts(at(proxyOnly), "the proxy-only process");
    await waitAccepts(at(emptyProxy), "the proxy with an empty filter");
    await waitAccepts(at(barePipe), "the bare pipe");
    const plan: {
      key: string;
      label: string;
      target: HostPort;
      expect: (source: string) => string;
      /** The proxy's process, for its CPU time. */
      pid?: number;
    }[] = [
      {
        key: "a",
        label: "(a) direct to an egress server",
        target: at(egress1),
        expect: () => "egress1",
      },
      {
        key: "b",
        label:
          "(b) through `wasmerang up local` (proxy, and its egress servers on their own threads, one process)",
        target: at(listen),
        expect: parity,
      },
      {
        key: "b2",
        label: "(b′) the same proxy alone in its own process",
        target: at(proxyOnly),
        expect: parity,
      },
      {
        key: "b3",
        label:
          "(b″) floor: that proxy with an empty proxy-wasm module (no filter logic; all to egress1)",
        target: at(emptyProxy),
        expect: () => "egress1",
      },
      {
        key: "d",
        label:
          "(d) floor: a bare node:net pipe in Deno, parity decided in TypeScript, no wasm, no log",
        target: at(barePipe),
        expect: parity,
      },
    ];

    if (!options.nginx) {
      nginxNote = "nginx was not measured (--no-nginx).";
    } else {
      const found = await ensureNginx();
      if (typeof found === "string") {
        nginxNote = found;
        log(`  nginx: ${found}`);
      } else {
        nginx = found;
        for (
          const [workers, port] of [[1, nginx1], ["auto", nginxAuto]] as const
        ) {
          const running = await startNginx(found, {
            listen: at(port),
            egress: [at(egress1), at(egress2)],
            workers,
          });
          stops.push(running.stop);
          plan.push({
            key: workers === 1 ? "c" : "c2",
            label: `(c${
              workers === 1 ? "" : "′"
            }) nginx stream, \`map $remote_addr\`, worker_processes ${workers}`,
            target: at(port),
            expect: parity,
          });
        }
      }
    }

    if (!options.envoy) {
      envoyNote = "Envoy was not measured (--no-envoy).";
    } else {
      try {
        const envoy = await findEnvoy();
        log(`  envoy: ${envoy.version} (${envoy.path})`);
        for (
          const [filter, port, admin] of [
            [false, envoyBare, envoyBareAdmin],
            [true, envoyFilter, envoyFilterAdmin],
          ] as const
        ) {
          const running = await startEnvoyTarget({
            envoy,
            listen: at(port),
            admin: at(admin),
            egress: [at(egress1), at(egress2)],
            filter,
            work,
          });
          stops.push(running.stop);
          plan.push(
            filter
              ? {
                key: "e2",
                label:
                  `(e′) Envoy ${envoy.version}, one worker, the wasm filter (V8) then tcp_proxy`,
                target: at(port),
                expect: parity,
                pid: running.pid,
              }
              : {
                key: "e",
                label:
                  `(e) Envoy ${envoy.version}, one worker, tcp_proxy alone (all to egress1)`,
                target: at(port),
                expect: () => "egress1",
                pid: running.pid,
              },
          );
        }
      } catch (error) {
        envoyNote = `Envoy was not measured: ${(error as Error).message}`;
        log(`  ${envoyNote}`);
      }
    }

    // Rounds interleave the targets, so that a slow moment of the machine
    // does not fall on one target only; each figure is the median of the rounds.
    const rounds = new Map<
      string,
      { load: LoadResult; moved: TransferResult; cpuUs?: number }[]
    >();
    for (let round = 1; round <= options.rounds; round++) {
      for (const { key, label, target, expect, pid } of plan) {
        log(`  round ${round}: ${label}`);
        await runLoad({
          target,
          sources,
          count: WARMUP,
          concurrency: 8,
          expect,
        });
        const cpuBefore = pid === undefined ? 0 : cpuSeconds(pid);
        const load = await runLoad({
          target,
          sources,
          count: options.count,
          concurrency: options.concurrency,
          expect,
        });
        const cpuUs = pid === undefined
          ? undefined
          : (cpuSeconds(pid) - cpuBefore) * 1e6 / options.count;
        const moved = await transfer(target, sources[0], TRANSFER_BYTES);
        rounds.set(key, [...(rounds.get(key) ?? []), { load, moved, cpuUs }]);
      }
    }
    const targets = plan.map(({ key, label }) =>
      summarize(key, label, rounds.get(key)!)
    );
    return { targets, nginx, nginxNote, envoyNote };
  } finally {
    for (const stop of stops.reverse()) await stop();
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? sorted[middle]
    : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Medians over the rounds (rates, latencies, MB/s); counts are summed. */
function summarize(
  key: string,
  label: string,
  runs: { load: LoadResult; moved: TransferResult; cpuUs?: number }[],
): TargetResult {
  const cpu = runs.flatMap((run) => run.cpuUs === undefined ? [] : [run.cpuUs]);
  const rates = runs.map((run) => run.load.connectionsPerSecond);
  const transfers = runs.filter((run) => run.moved.error === undefined);
  return {
    key,
    label,
    connectionsPerSecond: median(rates),
    rateRange: [Math.min(...rates), Math.max(...rates)],
    p50Ms: median(runs.map((run) => run.load.p50Ms)),
    p99Ms: median(runs.map((run) => run.load.p99Ms)),
    ok: runs.reduce((sum, run) => sum + run.load.ok, 0),
    errors: runs.reduce((sum, run) => sum + run.load.errors, 0),
    mismatches: runs.reduce((sum, run) => sum + run.load.mismatches, 0),
    errorSamples: runs.flatMap((run) => run.load.errorSamples).slice(0, 5),
    mbPerSecond: transfers.length === 0
      ? undefined
      : median(transfers.map((run) => run.moved.mbPerSecond)),
    transferErrors: runs.flatMap((run) =>
      run.moved.error === undefined ? [] : [run.moved.error]
    ),
    cpuUsPerConnection: cpu.length === 0 ? undefined : median(cpu),
  };
}

/**
 * Starts `deno ARGS` with stdout and stderr going straight to `logPath`
 * (through `sh -c 'exec …'`, so the benchmark's process copies nothing);
 * stop() sends SIGTERM, then SIGKILL after 5 s.
 */
function spawnLogged(
  args: string[],
  logPath: string,
): { stop(): Promise<void> } {
  const quote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      `exec ${[Deno.execPath(), ...args].map(quote).join(" ")} >${
        quote(logPath)
      } 2>&1`,
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  return {
    async stop() {
      const kill = (signal: Deno.Signal) => {
        try {
          child.kill(signal);
        } catch {
          // Already gone.
        }
      };
      kill("SIGTERM");
      const timer = setTimeout(() => kill("SIGKILL"), 5000);
      await child.status;
      clearTimeout(timer);
    },
  };
}

async function waitAccepts(address: HostPort, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await accepts(address))) {
    if (Date.now() > deadline) throw new Error(`${what} did not start`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

/** `n` distinct free loopback ports (bound to 0, then released). */
async function freePorts(n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () => createServer());
  const ports = await Promise.all(
    servers.map((server) =>
      new Promise<number>((resolve) =>
        server.listen(
          0,
          "127.0.0.1",
          () => resolve((server.address() as { port: number }).port),
        )
      )
    ),
  );
  await Promise.all(
    servers.map((server) =>
      new Promise((done) => server.close(() => done(undefined)))
    ),
  );
  return ports;
}

// ---------------------------------------------------------------- build

interface BuildResult {
  buildSeconds: number;
  wasmBytes: number;
  startup: StartupFigure[];
}

async function buildBench(): Promise<BuildResult> {
  const dir = await Deno.makeTempDir({ prefix: "wasmerang-build-" });
  try {
    const out = join(dir, "wasmerang.wasm");
    const started = performance.now();
    const built = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", join(ROOT, "cli.ts"), "build", "--out", out],
      cwd: ROOT,
      stdout: "null",
      stderr: "piped",
    }).output();
    const buildSeconds = (performance.now() - started) / 1000;
    if (!built.success) {
      throw new Error(
        `wasmerang build failed: ${new TextDecoder().decode(built.stderr)}`,
      );
    }
    const wasmBytes = (await Deno.stat(out)).size;
    return { buildSeconds, wasmBytes, startup: await startupBench(10) };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

// ---------------------------------------------------------------- results

/** The 1, 5 and 15 minute load averages (other work on the machine skews every figure). */
function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(
      " ",
    );
  } catch {
    return "unknown";
  }
}

async function machine(
  nginx: NginxInstall | undefined,
  load: { before: string; after: string },
): Promise<string[]> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? "unknown";
  return [
    `nproc: ${navigator.hardwareConcurrency}`,
    `CPU: ${model}`,
    `Deno: ${Deno.version.deno} (V8 ${Deno.version.v8})`,
    `OS: ${Deno.build.os} ${Deno.osRelease()}`,
    `load average (1/5/15 min): ${load.before} before the run, ${load.after} after`,
    `nginx: ${
      nginx === undefined
        ? "not measured"
        : `${nginx.version} with ngx_stream_module${
          nginx.installed ? " (installed by this run)" : ""
        }`
    }`,
  ];
}

function renderResults(input: {
  command: string;
  startedAt: Date;
  options: Options;
  machine: string[];
  filter: FilterRow[];
  targets: TargetResult[];
  nginxNote?: string;
  envoyNote?: string;
  build: BuildResult;
}): string {
  const n = (value: number, digits = 0) =>
    value.toLocaleString("en-US", {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
  const byKey = new Map(input.targets.map((target) => [target.key, target]));
  const lines: string[] = [
    "# Benchmark results",
    "",
    `Produced by \`${input.command}\` (bench/run.ts) on ${input.startedAt.toISOString()}, in ${
      n((Date.now() - input.startedAt.getTime()) / 1000)
    } s.`,
    "",
    ...input.machine.map((line) => `- ${line}`),
    "",
    "## Filter cost per connection",
    "",
    "One connection's hooks through the real .wasm in the host (context create → new connection →",
    "decision → done/log/delete) vs the same decision in plain TypeScript (`decideCluster`), from",
    "`deno bench --json bench/filter_bench.ts`.",
    "",
    "| configuration | wasm in the host (avg) | wasm (p75) | plain TypeScript (avg) | ratio (avg) |",
    "| --- | ---: | ---: | ---: | ---: |",
    ...input.filter.map((row) =>
      `| ${row.configuration} | ${n(row.wasmNs)} ns | ${
        n(row.wasmP75Ns)
      } ns | ${n(row.plainNs)} ns | ${n(row.wasmNs / row.plainNs, 1)}× |`
    ),
    "",
    "## Data plane",
    "",
    `Client: bench/dataplane.ts (the probe's \`readBanner\`) in the benchmark's process. Per target and round: ${
      n(WARMUP)
    } warm-up`,
    `connections, then ${
      n(input.options.count)
    } connections, ${input.options.concurrency} at a time, from source addresses`,
    "127.0.0.10–127.0.0.41 in turn (both parities), each timed from connect to the egress banner and",
    "closed; then one 64 MiB transfer (sent after the banner, echoed by the egress; MB/s = 10^6 bytes",
    "of payload one way per second, from connect to the last echoed byte).",
    `${input.options.rounds} rounds go over all targets in turn; each figure is the median of the rounds`,
    "(conn/s also shows the lowest and highest round), the counts are summed. Every target reaches",
    "the same two egress servers: those of the `up local` process. The proxies write one access-log",
    "line per connection to a file (`up local` and the proxy-only process also the filter's own log",
    "line). nginx `worker_processes 1` is the fair peer for a single-threaded proxy; `auto` (2 workers",
    "here) is shown too. All of them — client, proxies, egress servers, nginx — share the 2 cores.",
    "On this virtual machine absolute figures drift by up to ~1.6× from one run to the next; the",
    "ratios within one run are what to compare.",
    "",
    "Envoy (e, e′) runs with `--concurrency 1`, its access log to a file and its own log (the",
    "filter's line per connection, at info) to a file with `--log-path`; its CPU per connection is",
    "its process's user+system time from /proc/<pid>/stat over the measured connections.",
    "",
    "| target | conn/s (lowest–highest) | p50 to banner | p99 to banner | ok / errors / wrong egress | 64 MiB echo | proxy CPU per connection |",
    "| --- | ---: | ---: | ---: | --- | ---: | ---: |",
  ];
  for (const target of input.targets) {
    lines.push(
      `| ${target.label} | ${n(target.connectionsPerSecond)} (${
        n(target.rateRange[0])
      }–${n(target.rateRange[1])}) | ${n(target.p50Ms, 2)} ms | ${
        n(target.p99Ms, 2)
      } ms | ${target.ok} / ${target.errors} / ${target.mismatches} | ${
        target.mbPerSecond === undefined
          ? "failed"
          : `${n(target.mbPerSecond, 1)} MB/s`
      }${
        target.transferErrors.length > 0
          ? ` (${target.transferErrors.length} failed: ${
            target.transferErrors[0]
          })`
          : ""
      } | ${
        target.cpuUsPerConnection === undefined
          ? "—"
          : `${n(target.cpuUsPerConnection, 1)} µs`
      } |`,
    );
  }
  const errors = input.targets.flatMap((target) =>
    target.errorSamples.map((sample) => `${target.key}: ${sample}`)
  );
  if (errors.length > 0) {
    lines.push("", "Error samples:", ...errors.map((error) => `- ${error}`));
  }
  if (input.nginxNote !== undefined) {
    lines.push("", `**nginx: ${input.nginxNote}**`);
  }
  if (input.envoyNote !== undefined) {
    lines.push("", `**${input.envoyNote}**`);
  }
  const a = byKey.get("a");
  const b = byKey.get("b");
  const b2 = byKey.get("b2");
  const c = byKey.get("c");
  const ratio = (x: number, y: number) => `${n(x / y, 2)}`;
  const compare = (name: string, x: TargetResult, y: TargetResult) => {
    const transfer = x.mbPerSecond !== undefined && y.mbPerSecond !== undefined
      ? `, 64 MiB echo ${ratio(x.mbPerSecond, y.mbPerSecond)}`
      : "";
    lines.push(
      `- ${name}: connection rate ${
        ratio(x.connectionsPerSecond, y.connectionsPerSecond)
      }, p50 ${ratio(x.p50Ms, y.p50Ms)}, p99 ${
        ratio(x.p99Ms, y.p99Ms)
      }${transfer}`,
    );
  };
  lines.push("", "### Ratios", "");
  if (a && b) compare("b/a", b, a);
  if (b && c) compare("b/c", b, c);
  if (b2 && c) compare("b′/c", b2, c);
  const b3 = byKey.get("b3");
  const d = byKey.get("d");
  if (b2 && b3 && d) {
    const us = (x: TargetResult) => 1e6 / x.connectionsPerSecond;
    lines.push(
      "",
      "### Where a connection's time goes (approximate)",
      "",
      "From the proxies' connection rates at saturation (1/rate, so the client's share of the cores",
      "is in every term):",
      "",
      `- bare \`node:net\` pipe in Deno (d): ${n(us(d))} µs per connection`,
      `- the local proxy's own work and the host with a no-op module (b″ − d): ${
        n(us(b3) - us(d))
      } µs`,
      `- the filter's logic and its log line in the data plane (b′ − b″): ${
        n(us(b2) - us(b3))
      } µs (the microbenchmark above: ${
        n((input.filter[0]?.wasmNs ?? NaN) / 1000, 1)
      } µs)`,
    );
  }
  const e = byKey.get("e");
  const e2 = byKey.get("e2");
  if (e && e2) {
    lines.push(
      "",
      "### The filter's cost inside Envoy",
      "",
      `- connection rate with the filter / without: ${
        ratio(e2.connectionsPerSecond, e.connectionsPerSecond)
      } (${n(e2.connectionsPerSecond)} vs ${n(e.connectionsPerSecond)} conn/s)`,
      `- Envoy's CPU per connection: ${
        n(e2.cpuUsPerConnection ?? NaN, 1)
      } µs with the filter, ${
        n(e.cpuUsPerConnection ?? NaN, 1)
      } µs without: the filter (and its log line) adds ${
        n((e2.cpuUsPerConnection ?? NaN) - (e.cpuUsPerConnection ?? NaN), 1)
      } µs`,
    );
    if (c) {
      compare("e′/c (Envoy with the filter vs nginx, one worker each)", e2, c);
    }
    if (b) compare("b/e′ (up local vs Envoy with the filter)", b, e2);
  }
  lines.push("", "### Speed goals (reported, not asserted)", "");
  if (b && c) {
    const rate = b.connectionsPerSecond / c.connectionsPerSecond;
    const p99 = b.p99Ms / c.p99Ms;
    lines.push(
      `- \`up local\` ≥ ½ of nginx's connection rate: ${n(rate, 2)} of it — ${
        rate >= 0.5 ? "met" : "not met"
      }.`,
      `- \`up local\` p99 time-to-banner ≤ 2× nginx's: ${n(p99, 2)}× — ${
        p99 <= 2 ? "met" : "not met"
      }.`,
    );
  } else {
    lines.push("- Not evaluated: nginx was not measured.");
  }
  const build = input.build;
  lines.push(
    "",
    "## Build and start-up",
    "",
    `- \`wasmerang build\` (deno run -A cli.ts build --out <temp>): ${
      n(build.buildSeconds, 2)
    } s`,
    `- .wasm size: ${n(build.wasmBytes)} bytes (${
      n(build.wasmBytes / 1024, 1)
    } KiB)`,
    ...renderStartup(build.startup),
    "",
  );
  return lines.join("\n");
}

if (import.meta.main) {
  await main();
}
