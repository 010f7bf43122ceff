/**
 * bench/RESULTS.md: the machine, the filter cost, the data-plane table and
 * its ratios, the build and start-up figures.
 *
 * @module
 */
import type { BuildResult } from "./build_cost.ts";
import { type FilterCost, renderFilterCost, rowOf } from "./filter_cost.ts";
import { type TargetResult, WARMUP } from "./measure.ts";
import type { NginxInstall } from "./nginx.ts";
import type { Options } from "./options.ts";
import { renderStartup } from "./startup.ts";

/** The 1, 5 and 15 minute load averages (other work on the machine skews every figure). */
export function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(
      " ",
    );
  } catch {
    return "unknown";
  }
}

/** The machine and its load, one line each. */
export async function machine(
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

/** The filter-cost section's text and table. */
function renderFilterCostSection(cost: FilterCost): string[] {
  return [
    "One connection (context create → new connection → done → delete) through the host, from",
    `\`deno bench --json bench/filter_bench.ts\`: the filter beside two hand-written reference`,
    "modules (bench/reference_modules.ts) loaded by the same host: one whose hooks do nothing, and",
    "a lean one making the filter's decision with two host calls (one `proxy_get_property` of",
    "`source.address`, one `set_envoy_filter_state`). The modules run interleaved in",
    `${cost.rounds} rounds; each figure is the median of the rounds' averages.`,
    "",
    ...renderFilterCost(cost),
  ];
}

/** The whole results file, as Markdown. */
export function renderResults(input: {
  command: string;
  startedAt: Date;
  options: Options;
  machine: string[];
  filter: FilterCost;
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
    ...renderFilterCostSection(input.filter),
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
        n(rowOf(input.filter, "filter (standalone)").ns / 1000, 1)
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
