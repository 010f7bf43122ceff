/**
 * One access-log line per connection, in Envoy's spirit:
 * `[2026-11-26T10:00:00.000Z] cluster=egress2 src=127.0.0.11:40312 dst=127.0.0.1:10000 -> 127.0.0.1:19002 bytes=12/30 1.4ms`,
 * with, when the connection did not end well, Envoy's response flag for it
 * where there is one (`flags=UF`: the upstream connect failed, `flags=NC`: no
 * such cluster; Envoy's own line has `flags=-` otherwise) and the reason.
 *
 * @module
 */

/** What the proxy knows about a finished connection. */
export interface AccessRecord {
  /** When the connection was accepted. */
  start: Date;
  /** The cluster chosen (the filter's override or the default), or null before a choice. */
  cluster: string | null;
  /** Whether the cluster came from the filter (`envoy.tcp_proxy.cluster`). */
  overridden: boolean;
  /** The downstream peer, `ip:port`. */
  source: string;
  /** The address the downstream connected to, `ip:port`. */
  destination: string;
  /** The upstream address connected to, or null. */
  upstream: string | null;
  /** Bytes received from and sent to the downstream. */
  bytesReceived: number;
  /** Bytes sent to the downstream. */
  bytesSent: number;
  /** From accept to the last close, in milliseconds. */
  durationMs: number;
  /** Why the connection ended badly (upstream refused, filter trapped, …), if it did. */
  reason?: string;
}

/**
 * Formats a record as one line.
 *
 * @example
 * ```ts
 * import { formatAccessLog } from "./access_log.ts";
 * formatAccessLog({
 *   start: new Date(0), cluster: "egress2", overridden: true, source: "127.0.0.11:40312",
 *   destination: "127.0.0.1:10000", upstream: "127.0.0.1:19002", bytesReceived: 12,
 *   bytesSent: 30, durationMs: 1.42,
 * });
 * // "[1970-01-01T00:00:00.000Z] cluster=egress2 src=127.0.0.11:40312 dst=127.0.0.1:10000 -> 127.0.0.1:19002 bytes=12/30 1.4ms"
 * ```
 */
export function formatAccessLog(record: AccessRecord): string {
  const line =
    `[${record.start.toISOString()}] cluster=${
      oneLine(record.cluster ?? "-")
    } ` +
    `src=${record.source} dst=${record.destination} -> ${
      record.upstream ?? "-"
    } ` +
    `bytes=${record.bytesReceived}/${record.bytesSent} ${
      record.durationMs.toFixed(1)
    }ms`;
  if (record.reason === undefined) return line;
  const flag = responseFlag(record.reason);
  return `${line}${flag === undefined ? "" : ` flags=${flag}`} (${
    oneLine(record.reason)
  })`;
}

/**
 * Envoy's response flag for a reason the local proxy gives, if Envoy has one:
 * `UF` (upstream connection failure), `NC` (no cluster found).
 *
 * @example
 * ```ts
 * import { responseFlag } from "./access_log.ts";
 * responseFlag("upstream connect error: connection refused"); // "UF"
 * ```
 */
export function responseFlag(reason: string): string | undefined {
  if (reason.startsWith("upstream connect error")) return "UF";
  if (reason.startsWith("no cluster named")) return "NC";
  return undefined;
}

/** `text` with control characters (and U+2028/U+2029) as `\uXXXX`: a name a module chose cannot split the line. */
function oneLine(text: string): string {
  return text.replace(
    // deno-lint-ignore no-control-regex
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
