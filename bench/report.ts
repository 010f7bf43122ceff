/**
 * bench/RESULTS.md: the machine, the filter cost, the data-plane table and
 * its ratios, the build and start-up figures.
 *
 * @module
 */
import type { BuildResult } from "./build_cost.ts";
import { type FilterCost, renderFilterCost } from "./filter_cost.ts";
import { type TargetResult, WARMUP } from "./measure.ts";
import type { HaproxyInstall } from "./haproxy.ts";
import type { NginxInstall } from "./nginx.ts";
import type { Options } from "./options.ts";
import { renderStartup } from "./startup.ts";
import {
  ENVOY_STEPS,
  ENVOY_VARIANTS,
  type EnvoyVariant,
  VARIANT_TEXT,
} from "./envoy.ts";
import { ENVOY_KEYS } from "./targets.ts";
import {
  type InstructionFigures,
  instructionsSection,
} from "./instructions.ts";

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
  haproxy: HaproxyInstall | undefined,
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
    `HAProxy: ${
      haproxy === undefined
        ? "not measured"
        : `${haproxy.version}${
          haproxy.installed ? " (installed by this run)" : ""
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

/**
 * The Envoy targets side by side: each one's CPU per connection over
 * tcp_proxy alone, then the steps between them (Wasm floor, host calls, the
 * filter's own work, the filter over native).
 */
export function envoySection(targets: TargetResult[]): string[] {
  const n = (value: number, digits = 1) =>
    value.toLocaleString("en-US", {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
  const byKey = new Map(targets.map((target) => [target.key, target]));
  const cpu = (variant: EnvoyVariant) =>
    byKey.get(ENVOY_KEYS[variant])?.cpuUsPerConnection;
  const present = ENVOY_VARIANTS.filter((variant) =>
    cpu(variant) !== undefined
  );
  if (present.length < 2) return [];
  const none = cpu("none");
  const lines = [
    "",
    "### Envoy: the filter against no filter, Envoy's native equivalent and the reference modules",
    "",
    "Each row is one of the Envoy targets above (one worker each, measured in the same rounds): its",
    "CPU per connection, and what it adds to tcp_proxy alone. The native equivalent is Envoy's own",
    "`envoy.filters.network.set_filter_state` setting `envoy.tcp_proxy.cluster` from",
    "`%CEL(source.address.matches('[02468]:[0-9]+$') ? 'egress1' : 'egress2')%`",
    "(lib/envoy/native_equivalent.ts); the no-op and lean modules are bench/reference_modules.ts;",
    "the `istio` target has clusters named as the filter names them",
    "(`outbound|<listener port>||egress1.default.svc.cluster.local`).",
    "",
    "| Envoy target | CPU per connection | over tcp_proxy alone |",
    "| --- | ---: | ---: |",
    ...present.map((variant) =>
      `| (${ENVOY_KEYS[variant]}) ${VARIANT_TEXT[variant]} | ${
        n(cpu(variant)!)
      } µs | ${
        none === undefined || variant === "none"
          ? "—"
          : `${n(cpu(variant)! - none)} µs`
      } |`
    ),
    "",
    "Steps (differences of medians; a round varies by several µs, so the counted instructions below",
    "are what decides):",
    "",
  ];
  for (const { label, to, from, headline } of ENVOY_STEPS) {
    const [a, b] = [cpu(to), cpu(from)];
    if (a === undefined || b === undefined) continue;
    const text = `${label}: ${n(a - b)} µs (${n(a / b, 3)}×)`;
    lines.push(`- ${headline ? `**${text}**` : text}`);
  }
  return lines;
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
  haproxyNote?: string;
  envoyNote?: string;
  /** The counted breakdown (bench/instructions.ts), or why there is none. */
  instructions?: InstructionFigures | string;
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
    "line per connection to a file. `up local` runs the filter at debug, so it also writes the",
    "filter's decision line per connection; the proxy-only process (b′) runs it at info, Envoy's",
    "default, where the filter does not build that line. nginx `worker_processes 1` is the fair",
    "peer for a single-threaded proxy; `auto` (2 workers",
    "here) is shown too. All of them — client, proxies, egress servers, nginx — share the 2 cores.",
    "On this virtual machine absolute figures drift by up to ~1.6× from one run to the next; the",
    "ratios within one run are what to compare.",
    "",
    "Envoy (e, en, e0, el, e2, ei) runs with `--concurrency 1`, its access log to a file and its own log at its",
    "default level (info: the filter's per-connection debug line is not built) to a file with",
    "`--log-path`. HAProxy (h) runs in tcp",
    "mode with one thread, its tcplog line per connection to a file.",
    "",
    "Proxy CPU per connection: the user+system time the proxy's process used during the timed",
    "connections (every thread, and for nginx the master and its workers), from",
    "/proc/<pid>/task/<tid>/schedstat (nanoseconds), divided by the connections; the median of the",
    "rounds. It leaves out the client and the egress servers, which share the cores with the proxy",
    "and so hide its cost in the connection rate. For (b) it includes the egress servers, which run",
    "on threads of the same process; (b′), the same proxy alone, is the one to compare with nginx",
    "and HAProxy. Its split between the kernel (system calls, and the loopback packet processing",
    "they run on kernels that do not account interrupt time apart) and user space comes from",
    "/proc/<pid>/task/<tid>/stat (sampled at each timer tick, counted in 10 ms units, summed over",
    "the timed connections; the two parts are medians of their own, so they need not add up exactly).",
    "",
    "| target | proxy CPU per connection | of it: kernel / user | conn/s (lowest–highest) | p50 to banner | p99 to banner | 64 MiB echo | ok / errors / wrong egress |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const target of input.targets) {
    lines.push(
      `| ${target.label} | ${
        target.cpuUsPerConnection === undefined
          ? "—"
          : `${n(target.cpuUsPerConnection, 1)} µs`
      } | ${
        target.systemUsPerConnection === undefined ||
          target.userUsPerConnection === undefined
          ? "—"
          : `${n(target.systemUsPerConnection, 1)} / ${
            n(target.userUsPerConnection, 1)
          } µs`
      } | ${n(target.connectionsPerSecond)} (${n(target.rateRange[0])}–${
        n(target.rateRange[1])
      }) | ${n(target.p50Ms, 2)} ms | ${n(target.p99Ms, 2)} ms | ${
        target.mbPerSecond === undefined
          ? "failed"
          : `${n(target.mbPerSecond, 1)} MB/s`
      }${
        target.transferErrors.length > 0
          ? ` (${target.transferErrors.length} failed: ${
            target.transferErrors[0]
          })`
          : ""
      } | ${target.ok} / ${target.errors} / ${target.mismatches} |`,
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
  if (input.haproxyNote !== undefined) {
    lines.push("", `**HAProxy: ${input.haproxyNote}**`);
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
    const cpu = x.cpuUsPerConnection !== undefined &&
        y.cpuUsPerConnection !== undefined
      ? `CPU per connection ${
        ratio(x.cpuUsPerConnection, y.cpuUsPerConnection)
      }, `
      : "";
    lines.push(
      `- ${name}: ${cpu}connection rate ${
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
  const h = byKey.get("h");
  const b3 = byKey.get("b3");
  const d = byKey.get("d");
  const d2 = byKey.get("d2");
  if (h && c) compare("h/c (HAProxy vs nginx)", h, c);
  if (b2 && h) compare("b′/h", b2, h);
  if (b3 && c) compare("b″/c (empty module)", b3, c);
  if (d && c) compare("d/c (bare `node:net` pipe)", d, c);
  if (d2 && c) compare("d′/c (bare `Deno.*` pipe)", d2, c);
  if (d2 && d) compare("d′/d (`Deno.*` vs `node:net`, bare)", d2, d);
  const e2 = byKey.get("e2");
  lines.push(...envoySection(input.targets));
  if (e2) {
    if (c) {
      compare("e2/c (Envoy with the filter vs nginx, one worker each)", e2, c);
    }
    if (b) compare("b/e2 (up local vs Envoy with the filter)", b, e2);
  }
  lines.push("", "### Speed goals (reported, not asserted)", "");
  if (b2 && c && b2.cpuUsPerConnection && c.cpuUsPerConnection) {
    const cpu = b2.cpuUsPerConnection / c.cpuUsPerConnection;
    const p99 = b2.p99Ms / c.p99Ms;
    lines.push(
      `- the local proxy (b′) CPU per connection ≤ 1.5× nginx's (c): ${
        n(cpu, 2)
      }× — ${cpu <= 1.5 ? "met" : "not met"}.`,
      `- the local proxy (b′) p99 time-to-banner ≤ 1.3× nginx's (c): ${
        n(p99, 2)
      }× — ${p99 <= 1.3 ? "met" : "not met"}.`,
    );
    const split = (t: TargetResult) =>
      t.systemUsPerConnection !== undefined &&
        t.userUsPerConnection !== undefined
        ? `${n(t.systemUsPerConnection, 1)} µs in the kernel, ${
          n(t.userUsPerConnection, 1)
        } µs in user space`
        : undefined;
    if (d2?.cpuUsPerConnection && split(c) && split(d2) && split(b2)) {
      lines.push(
        `- The floor under the CPU goal: the bare \`Deno.*\` pipe (d′), with no wasm and no log, uses ${
          ratio(d2.cpuUsPerConnection, c.cpuUsPerConnection)
        }× nginx's CPU per connection by itself. Per connection, nginx spends ${
          split(c)
        }; the bare Deno pipe ${split(d2)}; the proxy (b′) ${split(b2)}.`,
      );
    }
  } else {
    lines.push(
      "- Not evaluated: the proxy alone (b′) or nginx (c) was not measured.",
    );
  }
  if (typeof input.instructions === "string") {
    lines.push(
      "",
      "## Instructions per connection in Envoy (callgrind)",
      "",
      `**${input.instructions}**`,
    );
  } else if (input.instructions !== undefined) {
    lines.push("", instructionsSection(input.instructions));
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
