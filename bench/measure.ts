/**
 * Measuring the targets: rounds that interleave them, each round a warm-up,
 * the timed connections (with the CPU time the proxy's process and its
 * children used meanwhile) and one bulk transfer; the figures are medians over the rounds.
 *
 * @module
 */
import {
  type LoadResult,
  runLoad,
  sourceSpread,
  transfer,
  type TransferResult,
} from "./dataplane.ts";
import type { Options } from "./options.ts";
import { type TreeCpu, treeCpu } from "./processes.ts";
import { median } from "./stats.ts";
import type { Target } from "./targets.ts";

/** Warm-up connections per target and round, before the timed ones. */
export const WARMUP = 1000;
const TRANSFER_BYTES = 64 * 1024 * 1024;

/** One data-plane target's figures over the rounds. */
export interface TargetResult {
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
  /** Median CPU time (µs) of the proxy's processes per timed connection, when known. */
  cpuUsPerConnection?: number;
  /** Median of it in the kernel and in user space (µs per connection), when known. */
  systemUsPerConnection?: number;
  userUsPerConnection?: number;
}

/** What one round measured of one target. */
interface RoundResult {
  load: LoadResult;
  moved: TransferResult;
  /** The proxy's CPU per timed connection (µs): total, user, system. */
  cpu?: TreeCpu;
}

/** Measures every target of `plan` over `options.rounds` rounds. */
export async function measureTargets(
  plan: Target[],
  options: Options,
  log: (line: string) => void,
): Promise<TargetResult[]> {
  const sources = sourceSpread();
  // Rounds interleave the targets, so that a slow moment of the machine
  // does not fall on one target only; each figure is the median of the rounds.
  const rounds = new Map<string, RoundResult[]>();
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
      const cpuBefore = pid === undefined ? undefined : treeCpu(pid);
      const load = await runLoad({
        target,
        sources,
        count: options.count,
        concurrency: options.concurrency,
        expect,
      });
      const cpuAfter = pid === undefined ? undefined : treeCpu(pid);
      const per = (field: keyof TreeCpu) =>
        (cpuAfter![field] - cpuBefore![field]) / options.count;
      const cpu = cpuAfter === undefined ? undefined : {
        total: per("total"),
        user: per("user"),
        system: per("system"),
      };
      const moved = await transfer(target, sources[0], TRANSFER_BYTES);
      rounds.set(key, [...(rounds.get(key) ?? []), { load, moved, cpu }]);
    }
  }
  return plan.map(({ key, label }) => summarize(key, label, rounds.get(key)!));
}

/** Medians over the rounds (rates, latencies, MB/s); counts are summed. */
function summarize(
  key: string,
  label: string,
  runs: RoundResult[],
): TargetResult {
  const cpuRuns = runs.flatMap((run) => run.cpu === undefined ? [] : [run.cpu]);
  const cpu = (field: keyof TreeCpu) =>
    cpuRuns.length === 0 ? undefined : median(cpuRuns.map((c) => c[field]));
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
    cpuUsPerConnection: cpu("total"),
    systemUsPerConnection: cpu("system"),
    userUsPerConnection: cpu("user"),
  };
}
