/**
 * What the proxy needs around `Deno.listen`/`Deno.connect`: listening with a
 * clear error, read buffers taken from a pool (a fresh zero-filled buffer per
 * connection costs more than the rest of a short connection), one shared
 * sweep for upstream connect timeouts instead of a timer per connection, and
 * socket errors named as the system names them (`ECONNREFUSED`, …).
 *
 * @module
 */
import { formatHostPort, type HostPort } from "../lib/address.ts";
import { listenFailure } from "./net_util.ts";

/** Listens on `address` (TCP); a port in use or a foreign address is a UserError naming the fix. */
export function listenTcp(address: HostPort, what: string): Deno.TcpListener {
  try {
    return Deno.listen({ hostname: address.host, port: address.port });
  } catch (error) {
    throw listenFailure(
      address,
      what,
      errorCode(error),
      (error as Error).message,
    );
  }
}

/** Size of one read buffer. */
export const READ_BUFFER_BYTES = 16 * 1024;
/** Buffers kept for reuse at most (the rest go to the garbage collector). */
const POOL_LIMIT = 512;
const pool: Uint8Array[] = [];

/** A read buffer from the pool (or a new one). Give it back with releaseBuffer once nothing refers to it. */
export function takeBuffer(): Uint8Array {
  return pool.pop() ?? new Uint8Array(READ_BUFFER_BYTES);
}

/** Returns a buffer taken with takeBuffer. */
export function releaseBuffer(buffer: Uint8Array): void {
  if (pool.length < POOL_LIMIT) pool.push(buffer);
}

/**
 * Upstream connects in progress, aborted by one periodic sweep when they take
 * too long; the sweep runs while connects come, not once per connect.
 */
export class ConnectSweep {
  #pending = new Map<AbortController, number>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #timeoutMs: number;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /** How many connects are in progress. */
  get size(): number {
    return this.#pending.size;
  }

  /** Connects to `target`; rejects with Error("connect timeout") after the timeout (± a tenth). */
  async connect(target: HostPort): Promise<Deno.TcpConn> {
    const controller = new AbortController();
    this.#pending.set(controller, performance.now() + this.#timeoutMs);
    if (this.#timer === undefined) {
      const period = Math.max(10, Math.min(1000, this.#timeoutMs / 10));
      this.#timer = setInterval(() => this.#sweep(), period);
    }
    try {
      return await Deno.connect({
        hostname: target.host,
        port: target.port,
        signal: controller.signal,
      });
    } catch (error) {
      if (controller.signal.aborted) throw new Error("connect timeout");
      throw error;
    } finally {
      this.#pending.delete(controller);
    }
  }

  /** Aborts every connect in progress and stops the sweep. */
  abortAll(): void {
    for (const controller of this.#pending.keys()) controller.abort();
    this.stop();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #sweep(): void {
    // Idle: the sweep stops itself (the next connect starts it again).
    if (this.#pending.size === 0) return this.stop();
    const now = performance.now();
    for (const [controller, deadline] of this.#pending) {
      if (now >= deadline) controller.abort();
    }
  }
}

/** The system's names for Deno's socket errors. */
const CODES: [new (...args: never[]) => Error, string][] = [
  [Deno.errors.ConnectionRefused, "ECONNREFUSED"],
  [Deno.errors.ConnectionReset, "ECONNRESET"],
  [Deno.errors.ConnectionAborted, "ECONNABORTED"],
  [Deno.errors.BrokenPipe, "EPIPE"],
  [Deno.errors.TimedOut, "ETIMEDOUT"],
  [Deno.errors.NotConnected, "ENOTCONN"],
  [Deno.errors.AddrNotAvailable, "EADDRNOTAVAIL"],
  [Deno.errors.AddrInUse, "EADDRINUSE"],
];

/** The error's code (`ECONNRESET`, …) when it is a socket error with one. */
export function errorCode(error: unknown): string | undefined {
  const own = (error as { code?: unknown })?.code;
  if (typeof own === "string") return own;
  return CODES.find(([type]) => error instanceof type)?.[1];
}

/** An error as one line: its code, then its message (without repeating the code). */
export function errorText(error: unknown): string {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return code !== undefined && !message.includes(code)
    ? `${code} ${message}`
    : message;
}

/** Why a connect to `target` failed, as node:net words it (`connect ECONNREFUSED 127.0.0.1:9`). */
export function connectErrorText(error: unknown, target: HostPort): string {
  const code = errorCode(error);
  return code === undefined
    ? errorText(error)
    : `connect ${code} ${formatHostPort(target.host, target.port)}`;
}
