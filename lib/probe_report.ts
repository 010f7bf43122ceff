/**
 * The probe's result, shared by every mode (local, docker, istio): the same
 * table, the same JSON and the same exit codes wherever the probe ran.
 */
import { UserError } from "./errors.ts";
import type { Decision } from "./judge.ts";
import { table } from "./ui.ts";

/** What one source address expected and who answered it. */
export interface ProbeResult {
  /** Source IP the connection was made from (a pod IP in Istio). */
  source: string;
  /**
   * The cluster the filter chose for this connection when run in the
   * project's host (lib/judge.ts), or null when it left the connection alone.
   */
  chosen: string | null;
  /**
   * The egress that should answer: the one the filter chose, else the
   * default cluster (tcp_proxy's `cluster`); null when the filter trapped.
   */
  expected: string | null;
  /** What trapped when the host ran the filter for this connection (never ok). */
  trapped?: string;
  /** The egress that answered (its banner), or null when nothing answered. */
  got: string | null;
  /** True when the egress the filter's decision expects is the one that answered. */
  ok: boolean;
  /**
   * Connect-to-banner time in milliseconds, measured around the connection
   * itself; null when it could not be (the table shows "n/a").
   */
  ms: number | null;
  /** Why the connection failed, when it did. */
  error?: string;
}

/** Which filter judged the connections: the one the proxy runs. */
export interface JudgedFilter {
  /** The module's path, or `the embedded filter`. */
  module: string;
  /** The module's sha256, hex. */
  sha256: string;
  /** The root id it runs under. */
  rootId: string;
  /** Its plugin configuration. */
  configuration: string;
}

/** A whole probe run: exactly what `--json` prints. */
export interface ProbeReport {
  /** What was probed, in words (e.g. the proxy's `ip:port`). */
  target: string;
  /** The filter whose own decisions say what to expect, when known. */
  filter?: JudgedFilter;
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
  filter?: JudgedFilter,
): ProbeReport {
  const passed = results.filter((result) => result.ok).length;
  return {
    target,
    ...(filter === undefined ? {} : { filter }),
    results,
    passed,
    failed: results.length - passed,
  };
}

/**
 * One result for `source` from the filter's own decision and what answered: the
 * expected egress is the chosen cluster, else `defaultCluster`; a trap is
 * never ok. `egressOf` maps a cluster name to the banner its egress sends
 * (the identity, except in Istio where clusters are `outbound|…` names).
 */
export function judgedResult(
  source: string,
  decision: Decision,
  defaultCluster: string,
  answer: {
    got: string | null;
    ms: number | null;
    error?: string;
  },
  egressOf: (cluster: string) => string = (cluster) => cluster,
): ProbeResult {
  const chosen = decision.cluster;
  const expected = decision.trapped !== undefined
    ? null
    : egressOf(chosen ?? defaultCluster);
  return {
    source,
    chosen,
    expected,
    ...(decision.trapped === undefined ? {} : { trapped: decision.trapped }),
    got: answer.got,
    ok: expected !== null && answer.got === expected,
    ms: answer.ms,
    ...(answer.error === undefined ? {} : { error: answer.error }),
  };
}

/** The human form: one row per source, then a summary line. */
export function renderProbeReport(report: ProbeReport): string {
  const rows = report.results.map((result) => [
    result.source,
    result.trapped !== undefined
      ? `trapped: ${result.trapped}`
      : result.chosen ?? "(left alone)",
    result.expected ?? "—",
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
      Object.keys(report.counters).length === 0
        ? "none (the filter defines none)"
        : Object.entries(report.counters).map(([name, value]) =>
          `${name}=${value}`
        ).join("  ")
    }`;
  } else if (report.countersUnavailable !== undefined) {
    counters = `\nfilter counters: unavailable (${report.countersUnavailable})`;
  }
  const filter = report.filter === undefined
    ? ""
    : `filter: ${report.filter.module} (sha256 ${
      report.filter.sha256.slice(0, 12)
    }…), root id ${report.filter.rootId}, configuration ${
      JSON.stringify(report.filter.configuration)
    }; expected = its own decision in the host\n`;
  return `${filter}${
    table(
      ["source", "filter chose", "expected", "answered by", "latency", ""],
      rows,
    )
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
