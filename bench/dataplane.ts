/**
 * The data-plane benchmark's client: many connections from a spread of
 * loopback source addresses, each timed from connect to the egress banner
 * (the probe's own `readBanner`), and one bulk transfer echoed back by the
 * egress. The same client measures every target (direct, `up local`, nginx).
 *
 * @module
 */
import { connect } from "node:net";
import type { HostPort } from "../lib/address.ts";
import { readBanner } from "../lib/loopback_probe.ts";
import { percentile } from "./stats.ts";

/** Loopback sources `127.0.0.<first>` … `127.0.0.<first+count-1>`: both parities. */
export function sourceSpread(count = 32, first = 10): string[] {
  return Array.from({ length: count }, (_, i) => `127.0.0.${first + i}`);
}

/** What to run against one target. */
export interface LoadOptions {
  target: HostPort;
  sources: readonly string[];
  /** Connections in total. */
  count: number;
  /** Connections open at once. */
  concurrency: number;
  /** The banner each source must get (a mismatch is counted, not thrown). */
  expect: (source: string) => string;
  /** Per-connection timeout (default 5 s). */
  timeoutMs?: number;
}

/** What a load run measured. */
export interface LoadResult {
  count: number;
  /** Connections that got the expected banner. */
  ok: number;
  /** Connections that failed (error, timeout, no banner). */
  errors: number;
  /** Connections answered by the wrong egress. */
  mismatches: number;
  /** The first few error texts. */
  errorSamples: string[];
  elapsedMs: number;
  connectionsPerSecond: number;
  /** Connect-to-banner milliseconds. */
  p50Ms: number;
  p99Ms: number;
}

/**
 * Opens `count` connections, `concurrency` at a time, source addresses taken
 * in turn, each reading the banner and closing.
 *
 * @example
 * ```ts
 * import { runLoad, sourceSpread } from "./dataplane.ts";
 * const result = await runLoad({
 *   target: { host: "127.0.0.1", port: 10000 },
 *   sources: sourceSpread(),
 *   count: 1000,
 *   concurrency: 32,
 *   expect: () => "egress1",
 * });
 * console.log(result.connectionsPerSecond, result.p99Ms);
 * ```
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies = new Float64Array(options.count);
  let next = 0;
  let ok = 0;
  let errors = 0;
  let mismatches = 0;
  const errorSamples: string[] = [];
  const worker = async () => {
    while (next < options.count) {
      const index = next++;
      const source = options.sources[index % options.sources.length];
      const seen = await readBanner(source, options.target, options.timeoutMs);
      latencies[index] = seen.ms;
      if (seen.banner === null) {
        errors++;
        if (errorSamples.length < 5) {
          errorSamples.push(`${source}: ${seen.error}`);
        }
      } else if (seen.banner !== options.expect(source)) {
        mismatches++;
      } else {
        ok++;
      }
    }
  };
  const started = performance.now();
  await Promise.all(
    Array.from(
      { length: Math.min(options.concurrency, options.count) },
      worker,
    ),
  );
  const elapsedMs = performance.now() - started;
  latencies.sort();
  return {
    count: options.count,
    ok,
    errors,
    mismatches,
    errorSamples,
    elapsedMs,
    connectionsPerSecond: options.count / (elapsedMs / 1000),
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
  };
}

/** What a bulk transfer measured. */
export interface TransferResult {
  /** Payload bytes sent (and expected back). */
  bytes: number;
  /** Payload bytes echoed back after the banner. */
  echoed: number;
  /** Connect to the last echoed byte. */
  ms: number;
  /** Payload MB (10^6 bytes) per second, one way. */
  mbPerSecond: number;
  error?: string;
}

/**
 * Connects from `source`, waits for the banner, sends `bytes` of payload
 * (respecting back-pressure), half-closes, and reads the echo to the end.
 */
export function transfer(
  target: HostPort,
  source: string,
  bytes: number,
  timeoutMs = 60_000,
): Promise<TransferResult> {
  return new Promise((resolve) => {
    const chunk = new Uint8Array(64 * 1024).fill(0x61);
    const started = performance.now();
    let banner = false;
    let echoed = 0;
    let error: string | undefined;
    const socket = connect({
      host: target.host,
      port: target.port,
      localAddress: source,
      allowHalfOpen: true,
    });
    const timer = setTimeout(
      () => socket.destroy(new Error("transfer timeout")),
      timeoutMs,
    );
    const send = () => {
      let sent = 0;
      const pump = () => {
        while (sent < bytes) {
          const size = Math.min(chunk.length, bytes - sent);
          sent += size;
          const more = socket.write(
            size === chunk.length ? chunk : chunk.subarray(0, size),
          );
          if (!more) return void socket.once("drain", pump);
        }
        socket.end();
      };
      pump();
    };
    socket.on("data", (data: Uint8Array) => {
      if (banner) {
        echoed += data.length;
        return;
      }
      const newline = data.indexOf(0x0a);
      if (newline < 0) return;
      banner = true;
      echoed += data.length - newline - 1;
      send();
    });
    socket.on("end", () => socket.end());
    socket.on("error", (e: Error & { code?: string }) => {
      error = e.code ?? e.message;
    });
    socket.on("close", () => {
      clearTimeout(timer);
      const ms = performance.now() - started;
      if (error === undefined && echoed !== bytes) {
        error = `echoed ${echoed} of ${bytes} bytes`;
      }
      resolve({
        bytes,
        echoed,
        ms,
        mbPerSecond: echoed / 1e6 / (ms / 1000),
        ...(error === undefined ? {} : { error }),
      });
    });
  });
}
