/**
 * Helpers for the local data plane's tests: a plane on ephemeral loopback
 * ports with its logs collected, and a client that connects from a chosen
 * source address.
 *
 * @module
 */
import { connect } from "node:net";
import { embeddedFilter } from "../lib/filter_module.ts";
import { decideCluster, DEFAULT_CONFIG } from "../lib/routing.ts";
import type { HostPort } from "../lib/address.ts";
import type { LogLevel } from "../host/mod.ts";
import { type LocalPlane, startLocalPlane } from "./plane.ts";

const ANY_PORT: HostPort = { host: "127.0.0.1", port: 0 };

/**
 * A plane on free ports, with every access-log and filter line collected.
 * The filter runs at `up local`'s log level, debug (one line per connection),
 * unless told otherwise.
 */
export async function testPlane(
  options: { config?: string; wasm?: Uint8Array; logLevel?: LogLevel } = {},
): Promise<{ plane: LocalPlane; access: string[]; filter: string[] }> {
  const access: string[] = [];
  const filter: string[] = [];
  const plane = await startLocalPlane({
    listen: ANY_PORT,
    egress: [ANY_PORT, ANY_PORT],
    config: options.config ?? "standalone",
    wasm: options.wasm ?? embeddedFilter(),
    onAccess: (line) => access.push(line),
    onFilterLog: (entry) => filter.push(`${entry.level} ${entry.message}`),
    logLevel: options.logLevel ?? "debug",
  });
  return { plane, access, filter };
}

/** What a client connection saw. */
export interface Conversation {
  /** Everything received, as text. */
  text: string;
  /** Whether the server ended its side (FIN) rather than resetting. */
  ended: boolean;
  error?: string;
}

/**
 * Connects from `source`, waits for the first line, sends `send` (if any),
 * half-closes, and collects everything until the connection closes.
 */
export function converse(
  target: HostPort,
  source: string,
  send?: string | Uint8Array,
  timeoutMs = 5000,
): Promise<Conversation> {
  return new Promise((resolve) => {
    let text = "";
    let ended = false;
    let sent = false;
    let error: string | undefined;
    const socket = connect({
      host: target.host,
      port: target.port,
      localAddress: source,
      allowHalfOpen: true,
    });
    const timer = setTimeout(
      () => socket.destroy(new Error("timeout")),
      timeoutMs,
    );
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      text += chunk;
      if (!sent && text.includes("\n")) {
        sent = true;
        if (send !== undefined) socket.write(send);
        socket.end();
      }
    });
    socket.on("end", () => {
      ended = true;
      socket.end();
    });
    socket.on(
      "error",
      (e: Error & { code?: string }) => (error = e.code ?? e.message),
    );
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ text, ended, ...(error === undefined ? {} : { error }) });
    });
  });
}

/** Waits until `check` holds (polling), at most `timeoutMs`. */
export async function eventually(
  check: () => boolean,
  timeoutMs = 3000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((done) => setTimeout(done, 10));
  }
}

/** 64 loopback sources, both parities. */
export const SOURCES: string[] = Array.from(
  { length: 64 },
  (_, i) => `127.0.0.${10 + i}`,
);

/** The egress the filter's rule sends `source` to. */
export function expectedEgress(source: string): string {
  return decideCluster(`${source}:1`, "127.0.0.1:1", DEFAULT_CONFIG)!;
}

/** A plane that only counts its access-log lines (and keeps the odd ones out). */
export async function countingPlane(): Promise<
  { plane: LocalPlane; seen: { lines: number; failed: string[] } }
> {
  const seen = { lines: 0, failed: [] as string[] };
  const plane = await startLocalPlane({
    listen: ANY_PORT,
    egress: [ANY_PORT, ANY_PORT],
    config: "standalone",
    wasm: embeddedFilter(),
    onAccess: (line, record) => {
      seen.lines++;
      if (record.reason !== undefined && seen.failed.length < 10) {
        seen.failed.push(line);
      }
    },
  });
  return { plane, seen };
}
