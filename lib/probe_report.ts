/**
 * The probe's result, shared by every mode (local, docker, istio): the same
 * table, the same JSON and the same exit codes wherever the probe ran.
 */
import { UserError } from "./errors.ts";
import { sourceParity } from "./routing.ts";
import { table } from "./ui.ts";

/** What one source address expected and who answered it. */
export interface ProbeResult {
  /** Source IP the connection was made from (a pod IP in Istio). */
  source: string;
  /** The egress the filter's rule says should answer, or null for no override. */
  expected: string | null;
  /** The egress that answered (its banner), or null when nothing answered. */
  got: string | null;
  /** True when the egress the rule expects is the one that answered. */
  ok: boolean;
  /**
   * Connect-to-banner time in milliseconds, measured around the connection
   * itself; null when it could not be (the table shows "n/a").
   */
  ms: number | null;
  /** Why the connection failed, when it did. */
  error?: string;
}

/** A whole probe run: exactly what `--json` prints. */
export interface ProbeReport {
  /** What was probed, in words (e.g. the proxy's `ip:port`). */
  target: string;
  /** One result per connection, in the order they were made. */
  results: ProbeResult[];
  /** How many results are ok. */
  passed: number;
  /** How many results are not ok. */
  failed: number;
  /**
   * The filter's counters as the proxy reports them (Envoy's admin `/stats`,
   * totals since it started), when the proxy has them.
   */
  counters?: Record<string, number>;
  /** Why the counters could not be read, when the proxy should have had them. */
  countersUnavailable?: string;
}

/** Builds a report from results, counting passes and failures. */
export function probeReport(
  target: string,
  results: ProbeResult[],
): ProbeReport {
  const passed = results.filter((result) => result.ok).length;
  return { target, results, passed, failed: results.length - passed };
}

/** The human form: one row per source, then a summary line. */
export function renderProbeReport(report: ProbeReport): string {
  const rows = report.results.map((result) => [
    result.source,
    ["even", "odd"][sourceParity(result.source) ?? -1] ?? "—",
    result.expected ?? "(no override)",
    result.got ?? `— ${result.error ?? "no answer"}`,
    result.ms === null ? "n/a" : `${result.ms.toFixed(1)} ms`,
    result.ok ? "✓" : "✗",
  ]);
  const summary = report.failed === 0
    ? `✓ ${report.passed} of ${report.results.length} connections answered by the expected egress (${report.target})`
    : `✗ ${report.failed} of ${report.results.length} connections did not reach the expected egress (${report.target})`;
  let counters = "";
  if (report.counters !== undefined) {
    counters = `\nfilter counters (Envoy admin /stats, since Envoy started): ${
      Object.entries(report.counters).map(([name, value]) => `${name}=${value}`)
        .join("  ")
    }`;
  } else if (report.countersUnavailable !== undefined) {
    counters = `\nfilter counters: unavailable (${report.countersUnavailable})`;
  }
  return `${
    table(["source", "parity", "expected", "answered by", "latency", ""], rows)
  }\n${summary}${counters}`;
}

/** Exit code of a finished probe: 0 when every result matched, 1 otherwise. */
export function probeExitCode(report: ProbeReport): number {
  return report.failed === 0 ? 0 : 1;
}

/**
 * The addresses of a `--from` list (comma-separated, blanks ignored); a
 * usage error when it names none. Each mode then checks them its own way.
 */
export function splitSources(from: string): string[] {
  const sources = from.split(",").map((source) => source.trim())
    .filter((source) => source !== "");
  if (sources.length === 0) {
    throw new UserError("--from needs at least one IP address", 2);
  }
  return sources;
}
