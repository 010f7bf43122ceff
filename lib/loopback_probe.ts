/**
 * `wasmerang probe local`: from each chosen loopback source address, open a
 * TCP connection to the proxy, read the egress banner, and compare it with
 * what the filter itself decides for that source, run in the project's host
 * with the proxy's module, root id and configuration (lib/judge.ts).
 *
 * @module
 */
import { connect } from "node:net";
import { UsageError, UserError } from "./errors.ts";
import {
  judgedResult,
  type ProbeReport,
  probeReport,
  type ProbeResult,
  splitSources,
} from "./probe_report.ts";
import { judgedFilter, judgeSources, type ProbeJudge } from "./judge.ts";
import {
  formatHostPort,
  type HostPort,
  ipLiteralProblem,
  isIPv4Literal,
  isLoopback,
} from "./address.ts";

/** Sources used when `--from` is not given: both parities, on loopback. */
export const DEFAULT_SOURCES: readonly string[] = Array.from(
  { length: 8 },
  (_, i) => `127.0.0.${10 + i}`,
);

/** What one probe connection saw. */
export interface BannerResult {
  /** The first line the server sent, or null. */
  banner: string | null;
  /** Connect-to-banner time in milliseconds. */
  ms: number;
  /** Error code or message when the connection failed. */
  error?: string;
  /** The system's error code (`ECONNREFUSED`, …), when there is one. */
  code?: string;
}

/**
 * Parses `--from`: comma-separated IPv4 loopback addresses (the local probe
 * binds each as its source). One clear error for anything else, including
 * forms node:net refuses as a source (`127.000.000.010`, `127.1`).
 */
export function parseSources(from: string | undefined): string[] {
  if (from === undefined) return [...DEFAULT_SOURCES];
  const sources = splitSources(from);
  for (const source of sources) {
    if (!isIPv4Literal(source)) {
      const why = ipLiteralProblem(source);
      throw new UsageError(
        `--from ${source}: ${
          why === "not an IP address"
            ? "not an IPv4 address (e.g. 127.0.0.10)"
            : why.replace("an IP address", "an IPv4 address")
        }`,
      );
    }
    if (!isLoopback(source)) {
      throw new UserError(
        `--from ${source}: the local probe binds loopback sources only (127.0.0.0/8), e.g. 127.0.0.10`,
        2,
      );
    }
  }
  return sources;
}

/** Connects from `source` to `target` and reads one line (with a timeout). */
export function readBanner(
  source: string,
  target: HostPort,
  timeoutMs = 5000,
): Promise<BannerResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    let received = "";
    let done = false;
    let socket: ReturnType<typeof connect>;
    try {
      socket = connect({
        host: target.host,
        port: target.port,
        localAddress: source,
      });
    } catch (error) {
      // node:net refuses some addresses before connecting (ERR_INVALID_IP_ADDRESS).
      const code = (error as { code?: string }).code;
      resolve({
        banner: null,
        ms: 0,
        error: code ?? String(error),
        code: code === "ERR_INVALID_IP_ADDRESS" ? "EINVAL" : code,
      });
      return;
    }
    const finish = (result: Omit<BannerResult, "ms">) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...result, ms: performance.now() - started });
    };
    const timer = setTimeout(
      () => finish({ banner: null, error: "no banner before the timeout" }),
      timeoutMs,
    );
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      received += chunk;
      const newline = received.indexOf("\n");
      if (newline >= 0) finish({ banner: received.slice(0, newline) });
    });
    socket.on(
      "end",
      () => finish({ banner: null, error: "closed before a banner" }),
    );
    socket.on(
      "error",
      (error: Error & { code?: string }) =>
        finish({
          banner: null,
          error: error.code ?? error.message,
          code: error.code,
        }),
    );
  });
}

/** Connections per source when `--count` is not given. */
export const DEFAULT_COUNT = 1;

/** What to probe. */
export interface LocalProbeOptions {
  /** The proxy to connect to. */
  target: HostPort;
  /** Loopback source addresses, each bound in turn. */
  sources: readonly string[];
  /** Connections per source (default {@link DEFAULT_COUNT}). */
  count?: number;
  /** The filter the running example runs (module, root id, configuration) and its default cluster: it says what to expect. */
  judge: ProbeJudge;
  /** How long to wait for a banner (default 5 s). */
  timeoutMs?: number;
  /** What to start and how, for the error when nothing answers. */
  startHint?: string;
}

/**
 * Probes every source `count` times and builds the shared report. Throws a
 * UserError with exit code 2 when nothing listens at the target or a source
 * cannot be bound.
 */
export async function probeLocal(
  options: LocalProbeOptions,
): Promise<ProbeReport> {
  const target = formatHostPort(options.target.host, options.target.port);
  const decisions = await judgeSources(options.judge, options.sources, target);
  const results: ProbeResult[] = [];
  for (const source of options.sources) {
    for (let i = 0; i < (options.count ?? DEFAULT_COUNT); i++) {
      const seen = await readBanner(source, options.target, options.timeoutMs);
      if (seen.code === "ECONNREFUSED") {
        throw new UserError(
          `nothing answers at ${target}: start ${
            options.startHint ??
              "the local example with 'wasmerang up local --detach'"
          }`,
          2,
        );
      }
      if (seen.code === "EADDRNOTAVAIL" || seen.code === "EINVAL") {
        throw new UserError(
          `cannot use ${source} as a source address on this machine ` +
            `(on macOS: sudo ifconfig lo0 alias ${source}); choose others with --from`,
          2,
        );
      }
      results.push(judgedResult(
        source,
        decisions.get(source)!,
        options.judge.defaultCluster,
        {
          got: seen.banner,
          ms: Math.round(seen.ms * 10) / 10,
          ...(seen.error === undefined ? {} : { error: seen.error }),
        },
      ));
    }
  }
  return probeReport(target, results, judgedFilter(options.judge));
}

/** Checks `--count` (connections per source): a whole number from 1 to 1000, default {@link DEFAULT_COUNT}. */
export function parseCount(count: string | number | undefined): number {
  const value = count === undefined ? DEFAULT_COUNT : Number(count);
  if (!Number.isInteger(value) || value < 1 || value > 1000) {
    throw new UserError(
      `--count ${count}: use a whole number from 1 to 1000`,
      2,
    );
  }
  return value;
}
