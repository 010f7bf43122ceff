/**
 * The counted breakdown: instructions per connection in Envoy for each Envoy
 * target of the bench (no filter, the native `set_filter_state` + CEL
 * equivalent, the no-op and lean reference modules, the filter standalone
 * and istio), from `valgrind --tool=callgrind`, which counts the
 * instructions Envoy executes repeatably where CPU time does not.
 *
 * Each target runs in its own Envoy (one worker) under callgrind. After a
 * warm-up, the counters are zeroed, M connections run, the counts are dumped;
 * zeroed again, N connections, dumped: (I_N − I_M) / (N − M) is the cost of
 * one connection, with what does not grow with the connections (the zero
 * and dump themselves, a timer that fires once) taken out. Every target is
 * measured twice, each time in a new Envoy, to show how repeatable it is.
 *
 * `deno run -A bench/instructions.ts [--counts M,N] [--repeats R] [--keep DIR]` prints
 * the section on its own; `deno task bench` runs it as a section of its own
 * (`--no-callgrind` skips it).
 *
 * @module
 */
import { join } from "node:path";
import type { HostPort } from "../lib/address.ts";
import { type EnvoyBinary, findEnvoy } from "../lib/envoy/binary.ts";
import { startEnvoy } from "../lib/envoy/process.ts";
import { decideCluster } from "../lib/routing.ts";
import { startEgress } from "../dataplane/egress.ts";
import {
  type CallgrindProfile,
  functionKey,
  JIT_OBJECT,
  parseCallgrind,
} from "./callgrind_format.ts";
import { codeMap, type Place } from "./code_map.ts";
import { runLoad, sourceSpread } from "./dataplane.ts";
import {
  ENVOY_STEPS,
  ENVOY_VARIANTS,
  type EnvoyVariant,
  routesByParity,
  VARIANT_TEXT,
  writeEnvoyTarget,
} from "./envoy.ts";
import { freePorts, runQuietly } from "./processes.ts";
import { median } from "./stats.ts";

/** How to count. */
export interface InstructionOptions {
  /** The Envoy to run (default: found as the bench finds it). */
  envoy?: EnvoyBinary;
  /** The targets (default: all of {@link ENVOY_VARIANTS}). */
  variants?: readonly EnvoyVariant[];
  /** [M, N]: the connections of the shorter and the longer counted run. */
  counts?: [number, number];
  /** Warm-up connections before counting (lazy set-up, V8 tiering). */
  warmup?: number;
  /** How many times each target is counted, each in a new Envoy. */
  repeats?: number;
  /** Progress lines. */
  log?: (line: string) => void;
  /**
   * A folder to keep the bootstraps, logs and callgrind's dumps in (for
   * `callgrind_annotate`); default a temporary one, removed at the end.
   */
  keep?: string;
}

/** One target's count. */
export interface VariantInstructions {
  variant: EnvoyVariant;
  /**
   * Instructions per connection on Envoy's worker thread (the thread that
   * ran the most while counting: with one worker, the one that runs the
   * connections), one per repeat.
   */
  perConnection: number[];
  /** The same over every thread of Envoy (the main thread's timers add to it unevenly). */
  allThreadsPerConnection: number[];
  /**
   * Instructions per connection of each function (`object|name`) on the
   * worker thread, from the first repeat; code callgrind leaves unattributed
   * is placed in its file's section (`<file> <section>|<address>`) or left as
   * generated code ({@link JIT_OBJECT}).
   */
  functions: Map<string, number>;
  /** Connections that failed or reached the wrong egress while counting. */
  failures: number;
}

/** What {@link countInstructions} found. */
export interface InstructionFigures {
  envoyVersion: string;
  valgrindVersion: string;
  counts: [number, number];
  warmup: number;
  repeats: number;
  /** The command line valgrind ran Envoy with (Envoy's own arguments after it). */
  valgrindArgs: string[];
  variants: VariantInstructions[];
}

/** Callgrind's options: V8 writes code at run time, so every non-file page is checked. */
const VALGRIND_ARGS = [
  "--tool=callgrind",
  "--smc-check=all-non-file",
  "--separate-threads=yes",
];

/** Envoy under valgrind starts in about a minute on two busy cores; give it ten. */
const READY_TIMEOUT_MS = 600_000;

/** Runs `callgrind_control` on `pid`; throws with its output when it fails. */
async function control(pid: number, action: string): Promise<void> {
  const result = await runQuietly("callgrind_control", [action, String(pid)]);
  if (!result.ok) {
    throw new Error(
      `callgrind_control ${action} ${pid}: ${result.output.trim()}`,
    );
  }
}

/** The files in `dir` whose names start with `prefix`. */
function filesStarting(dir: string, prefix: string): Set<string> {
  return new Set(
    [...Deno.readDirSync(dir)].map((entry) => entry.name).filter((name) =>
      name.startsWith(prefix)
    ),
  );
}

/** One dump: every thread's profile, by callgrind's thread number. */
type Dump = Map<string, CallgrindProfile>;

/**
 * Zeroes the counters, runs `count` connections, dumps, and reads the dump
 * (one file per thread, `callgrind.out.<pid>.<part>-<thread>`).
 */
async function countedRun(
  target: CountedEnvoy,
  count: number,
): Promise<{ dump: Dump; failures: number }> {
  const prefix = `callgrind.out.${target.pid}.`;
  await control(target.pid, "--zero");
  const failures = await target.connect(count);
  const before = filesStarting(target.dir, prefix);
  await control(target.pid, "--dump");
  const dump: Dump = new Map();
  for (const name of filesStarting(target.dir, prefix)) {
    if (before.has(name)) continue;
    const text = Deno.readTextFileSync(join(target.dir, name));
    dump.set(name.split("-").pop()!, parseCallgrind(text));
  }
  if (dump.size === 0) {
    throw new Error(`callgrind wrote no dump in ${target.dir}`);
  }
  return { dump, failures };
}

/** `after − before` per key, divided by `per`, leaving out zeros. */
function perUnit(
  before: Map<string, number>,
  after: Map<string, number>,
  per: number,
): Map<string, number> {
  const result = new Map<string, number>();
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const value = ((after.get(key) ?? 0) - (before.get(key) ?? 0)) / per;
    if (value !== 0) result.set(key, value);
  }
  return result;
}

/** An Envoy under callgrind, ready for counted connections. */
interface CountedEnvoy {
  variant: EnvoyVariant;
  pid: number;
  /** Its folder: bootstrap, logs, callgrind's dumps. */
  dir: string;
  /** Runs connections one at a time; resolves with the failed or misrouted ones. */
  connect(count: number): Promise<number>;
  /** Where an address of the process lies (file and section), taken once it was ready. */
  place: (address: bigint) => Place | undefined;
  stop(): Promise<void>;
}

/** Starts one target's Envoy under callgrind, in a folder of its own in `work`. */
async function startCounted(
  envoy: EnvoyBinary,
  variant: EnvoyVariant,
  egress: [HostPort, HostPort],
  work: string,
): Promise<CountedEnvoy> {
  const dir = await Deno.makeTempDir({ dir: work, prefix: `${variant}-` });
  const [port, admin] = await freePorts(2);
  const at = (port: number): HostPort => ({ host: "127.0.0.1", port });
  const { bootstrap, name } = await writeEnvoyTarget({
    listen: at(port),
    admin: at(admin),
    egress,
    variant,
    work: dir,
  });
  // A wrapper in Envoy's place, so that the process started, watched and
  // stopped is valgrind running Envoy (exec keeps the process id).
  const wrapper = join(dir, "envoy-under-callgrind.sh");
  await Deno.writeTextFile(
    wrapper,
    `#!/bin/sh\nexec valgrind ${VALGRIND_ARGS.join(" ")} --log-file=${
      join(dir, "valgrind.log")
    } --callgrind-out-file=${
      join(dir, "callgrind.out.%p")
    } ${envoy.path} "$@"\n`,
  );
  await Deno.chmod(wrapper, 0o755);
  const process = await startEnvoy({
    envoy: { ...envoy, path: wrapper },
    bootstrap,
    admin: `${at(admin).host}:${at(admin).port}`,
    concurrency: 1,
    readyTimeoutMs: READY_TIMEOUT_MS,
    extraArgs: ["--log-path", join(dir, `${name}.log`)],
  });
  const parity = (source: string) =>
    decideCluster(`${source}:1`, "127.0.0.1:1") ?? "egress1";
  const expect = routesByParity(variant) ? parity : () => "egress1";
  return {
    variant,
    pid: process.pid,
    dir,
    // One connection at a time: each one takes the same path through Envoy.
    async connect(count: number) {
      const load = await runLoad({
        target: at(port),
        sources: sourceSpread(),
        count,
        concurrency: 1,
        expect,
        timeoutMs: 60_000,
      });
      return load.errors + load.mismatches;
    },
    place: codeMap(process.pid),
    stop: () => process.stop(),
  };
}

/**
 * `object|name` of a function, with code callgrind could not attribute
 * placed in its file's section where a file backs it.
 */
function placed(
  key: string,
  place: (address: bigint) => Place | undefined,
): string {
  const bar = key.lastIndexOf("|");
  const name = key.slice(bar + 1);
  if (key.slice(0, bar) !== JIT_OBJECT || !/^0x[0-9a-f]+$/.test(name)) {
    return key;
  }
  const where = place(BigInt(name));
  return where === undefined
    ? key
    : functionKey(`${where.path} ${where.section ?? "(no section)"}`, name);
}

/** One count of one target. */
interface Count {
  /** The worker thread (the one that ran the most over the longer run), per connection. */
  worker: number;
  /** Every thread, per connection. */
  allThreads: number;
  /** Each function on the worker thread, per connection. */
  functions: Map<string, number>;
  failures: number;
}

/** Warms `target` up, then counts M and N connections (see the module documentation). */
async function countTarget(
  target: CountedEnvoy,
  counts: [number, number],
  warmup: number,
): Promise<Count> {
  const warmupFailures = await target.connect(warmup);
  const [m, n] = counts;
  const short = await countedRun(target, m);
  const long = await countedRun(target, n);
  const total = (dump: Dump) =>
    [...dump.values()].reduce((sum, thread) => sum + thread.total, 0);
  const [worker] = [...long.dump].reduce((best, entry) =>
    entry[1].total > best[1].total ? entry : best
  );
  const functions = (dump: Dump) => {
    const sum = new Map<string, number>();
    for (const [key, cost] of dump.get(worker)?.self ?? []) {
      const name = placed(key, target.place);
      sum.set(name, (sum.get(name) ?? 0) + cost);
    }
    return sum;
  };
  return {
    worker: (long.dump.get(worker)!.total -
      (short.dump.get(worker)?.total ?? 0)) / (n - m),
    allThreads: (total(long.dump) - total(short.dump)) / (n - m),
    functions: perUnit(functions(short.dump), functions(long.dump), n - m),
    failures: warmupFailures + short.failures + long.failures,
  };
}

/** `valgrind --version`, or a throw saying valgrind is missing. */
async function valgrindVersion(): Promise<string> {
  const result = await runQuietly("valgrind", ["--version"]);
  if (!result.ok) {
    throw new Error(
      `valgrind is not installed (apt-get install valgrind): ${result.output.trim()}`,
    );
  }
  return result.output.trim().replace(/^valgrind-/, "");
}

/**
 * Counts the instructions per connection of each target (see the module
 * documentation), `repeats` times each, every time in a new Envoy.
 */
export async function countInstructions(
  options: InstructionOptions = {},
): Promise<InstructionFigures> {
  const log = options.log ?? (() => {});
  const envoy = options.envoy ?? await findEnvoy();
  const version = await valgrindVersion();
  const counts = options.counts ?? [500, 1000];
  const warmup = options.warmup ?? 200;
  const repeats = options.repeats ?? 2;
  const variants = options.variants ?? ENVOY_VARIANTS;
  if (!(counts[0] > 0 && counts[1] > counts[0])) {
    throw new Error("the counts must be M,N with 0 < M < N");
  }
  const work = options.keep ??
    await Deno.makeTempDir({ prefix: "wasmerang-callgrind-" });
  const egress1 = await startEgress("egress1", { host: "127.0.0.1", port: 0 });
  const egress2 = await startEgress("egress2", { host: "127.0.0.1", port: 0 });
  const results = new Map<EnvoyVariant, VariantInstructions>();
  try {
    // Each repeat starts every target's Envoy at once (under valgrind the
    // start-up is the long part), then counts them one after the other.
    for (let repeat = 1; repeat <= repeats; repeat++) {
      log(
        `  callgrind ${repeat}/${repeats}: starting ${variants.length} Envoys under valgrind`,
      );
      const started = await Promise.allSettled(
        variants.map((variant) =>
          startCounted(envoy, variant, [egress1.address, egress2.address], work)
        ),
      );
      try {
        for (const outcome of started) {
          if (outcome.status === "rejected") throw outcome.reason;
        }
        for (const outcome of started) {
          const target = (outcome as PromiseFulfilledResult<CountedEnvoy>)
            .value;
          log(
            `  callgrind ${repeat}/${repeats}: counting Envoy, ${
              VARIANT_TEXT[target.variant]
            }`,
          );
          const count = await countTarget(target, counts, warmup);
          await target.stop();
          const result = results.get(target.variant) ?? {
            variant: target.variant,
            perConnection: [],
            allThreadsPerConnection: [],
            functions: count.functions,
            failures: 0,
          };
          result.perConnection.push(count.worker);
          result.allThreadsPerConnection.push(count.allThreads);
          result.failures += count.failures;
          results.set(target.variant, result);
        }
      } finally {
        for (const outcome of started) {
          if (outcome.status === "fulfilled") await outcome.value.stop();
        }
      }
    }
  } finally {
    await egress1.close();
    await egress2.close();
    if (options.keep === undefined) {
      await Deno.remove(work, { recursive: true }).catch(() => {});
    }
  }
  return {
    envoyVersion: envoy.version,
    valgrindVersion: version,
    counts,
    warmup,
    repeats,
    valgrindArgs: VALGRIND_ARGS,
    variants: variants.map((variant) => results.get(variant)!),
  };
}

/** An object's name for the report: its file's name (and section), or generated code. */
function objectName(object: string): string {
  if (object === JIT_OBJECT) {
    return "generated code (V8: the module compiled, its stubs)";
  }
  const name = object.split("/").pop()!;
  return name.endsWith(" google_malloc") ? `${name} (tcmalloc)` : name;
}

/** A function's name for the report: its name (an address where the binary has no symbols), then its object. */
function functionName(key: string): string {
  const bar = key.lastIndexOf("|");
  return `${key.slice(bar + 1)} (${objectName(key.slice(0, bar))})`;
}

/**
 * The functions that account for most of `to`'s extra instructions over
 * `from`, per connection, biggest first.
 */
export function topDifferences(
  from: Map<string, number>,
  to: Map<string, number>,
  limit = 10,
): { key: string; from: number; to: number; extra: number }[] {
  const keys = new Set([...from.keys(), ...to.keys()]);
  return [...keys].map((key) => ({
    key,
    from: from.get(key) ?? 0,
    to: to.get(key) ?? 0,
    extra: (to.get(key) ?? 0) - (from.get(key) ?? 0),
  })).sort((a, b) => b.extra - a.extra).slice(0, limit);
}

/** The extra of `to` over `from` by object: generated code, Envoy's binary, the C library… */
export function objectDifferences(
  from: Map<string, number>,
  to: Map<string, number>,
): { object: string; extra: number }[] {
  const sums = new Map<string, number>();
  for (const [map, sign] of [[to, 1], [from, -1]] as const) {
    for (const [key, cost] of map) {
      const object = key.slice(0, key.lastIndexOf("|"));
      sums.set(object, (sums.get(object) ?? 0) + sign * cost);
    }
  }
  return [...sums].map(([object, extra]) => ({ object, extra })).sort((a, b) =>
    b.extra - a.extra
  );
}

/** The Markdown section of the counted breakdown. */
export function instructionsSection(figures: InstructionFigures): string {
  const n = (value: number, digits = 0) =>
    value.toLocaleString("en-US", {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
  const byVariant = new Map(
    figures.variants.map((result) => [result.variant, result]),
  );
  const value = (variant: EnvoyVariant) => {
    const result = byVariant.get(variant);
    return result === undefined ? undefined : median(result.perConnection);
  };
  const spread = (values: number[]) =>
    values.length < 2
      ? "—"
      : `${
        n((Math.max(...values) - Math.min(...values)) / median(values) * 100, 2)
      } %`;
  const [m, nCount] = figures.counts;
  const lines = [
    "## Instructions per connection in Envoy (callgrind)",
    "",
    `Envoy ${figures.envoyVersion} (\`--concurrency 1\`) under valgrind ${figures.valgrindVersion}:`,
    `\`valgrind ${figures.valgrindArgs.join(" ")}\`, one Envoy per target, the`,
    "bootstrap of the timed targets above (access log to a file). After " +
    `${n(figures.warmup)} warm-up connections the counters are`,
    `zeroed (\`callgrind_control --zero\`), ${
      n(m)
    } connections run, the counts are dumped (\`--dump\`); again with ${
      n(nCount)
    }.`,
    `Instructions per connection = (I_${nCount} − I_${m}) / ${
      nCount - m
    }: what does not grow with the connections`,
    "cancels out. Connections go one at a time from 32 loopback sources in turn (both parities), each",
    "reading the egress banner and closing. The figure is the worker thread's, the thread that runs the",
    "connections (it runs the most while counting); every thread's sum is shown beside it (Envoy's main",
    "thread adds its timers, such as the stats flush, unevenly). User space only: the kernel's",
    "share of the CPU time above (the loopback TCP work) is not counted. Each target was counted",
    `${figures.repeats} times, each time in a new Envoy: the figure is the median, the spread (highest − lowest) / median.`,
    "",
    "| Envoy target | instructions per connection (worker thread) | spread over the counts | every thread | failed connections |",
    "| --- | ---: | ---: | ---: | ---: |",
  ];
  for (const result of figures.variants) {
    lines.push(
      `| ${VARIANT_TEXT[result.variant]} | ${
        n(median(result.perConnection))
      } | ${spread(result.perConnection)} (${
        result.perConnection.map((v) => n(v)).join(", ")
      }) | ${n(median(result.allThreadsPerConnection))} | ${result.failures} |`,
    );
  }
  lines.push("", "Steps (worker thread):", "");
  for (const { label, to, from, headline } of ENVOY_STEPS) {
    const [a, b] = [value(to), value(from)];
    if (a === undefined || b === undefined) continue;
    const text = `${label}: ${n(a - b)} instructions (${n(a / b, 3)}×)`;
    lines.push(`- ${headline ? `**${text}**` : text}`);
  }
  const filter = byVariant.get("standalone");
  const native = byVariant.get("native");
  if (filter && native) {
    lines.push(
      "",
      "Where the filter's extra over native goes, on the worker thread, by object and by function",
      "(first count of each). Envoy's binary is stripped, so its functions are named by address",
      "(callgrind's names: `callgrind_annotate` on a dump kept with `--keep DIR` shows the same);",
      "V8's generated code lies outside any file; tcmalloc sits in Envoy's `google_malloc` section.",
      "",
      "| object | extra instructions per connection |",
      "| --- | ---: |",
      ...objectDifferences(native.functions, filter.functions).filter((row) =>
        Math.abs(row.extra) >= 1
      ).map((row) => `| ${objectName(row.object)} | ${n(row.extra)} |`),
      "",
      "| function | native | the filter | extra |",
      "| --- | ---: | ---: | ---: |",
      ...topDifferences(native.functions, filter.functions).map((row) =>
        `| ${functionName(row.key)} | ${n(row.from)} | ${n(row.to)} | ${
          n(row.extra)
        } |`
      ),
    );
  }
  return lines.join("\n");
}

/** Reads `--counts M,N` and `--repeats R`. */
function parseArgs(args: string[]): InstructionOptions {
  const options: InstructionOptions = {};
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--counts") {
      const [m, nCount] = (args[++i] ?? "").split(",").map(Number);
      options.counts = [m, nCount];
    } else if (args[i] === "--repeats") options.repeats = Number(args[++i]);
    else if (args[i] === "--keep") options.keep = args[++i];
    else {
      throw new Error(
        `unknown option ${
          args[i]
        } (usage: deno run -A bench/instructions.ts [--counts M,N] [--repeats R] [--keep DIR])`,
      );
    }
  }
  return options;
}

if (import.meta.main) {
  const figures = await countInstructions({
    ...parseArgs(Deno.args),
    log: (line) => console.error(line),
  });
  console.log(instructionsSection(figures));
}
