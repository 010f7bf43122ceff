/**
 * One downstream connection through the filter and tcp_proxy, on
 * `Deno.Conn`s: each direction is one read loop with a pooled buffer that
 * writes (awaited) before it reads again, which is also the back-pressure;
 * half-close passes through, and tcp_proxy's rule holds: when the upstream
 * goes, the downstream is flushed and closed.
 *
 * @module
 */
import {
  type ProxyWasmVm,
  TCP_PROXY_CLUSTER_KEY,
  type TcpConnection,
  WasmTrapError,
  WasmVmFailedError,
} from "../host/mod.ts";
import { type AccessRecord, formatAccessLog } from "./access_log.ts";
import { formatHostPort, type HostPort } from "../lib/address.ts";
import {
  connectErrorText,
  errorText,
  releaseBuffer,
  takeBuffer,
} from "./deno_net.ts";

/** What a connection needs of its proxy. */
export interface ConnectionHost {
  /** The parts of the proxy's options (dataplane/proxy.ts) a connection reads. */
  readonly options: {
    readonly clusters: ReadonlyMap<string, HostPort>;
    readonly defaultCluster: string;
    readonly continueTimeoutMs?: number;
    readonly onAccess?: (line: string, record: AccessRecord) => void;
  };
  /** Connects to an upstream, within the connect timeout. */
  connect(target: HostPort): Promise<Deno.TcpConn>;
  /** Closes a socket of a connection and forgets it. */
  release(conn: Deno.Conn): void;
}

/** One downstream connection through the filter and tcp_proxy. */
export class ProxiedConnection {
  #proxy: ConnectionHost;
  #down: Deno.TcpConn;
  #up: Deno.TcpConn | undefined;
  /** Settles once the upstream connect did: true when connected. */
  #upReady: Promise<boolean> | undefined;
  #connectionId: number;
  #filter: TcpConnection | undefined;
  #record: AccessRecord;
  #started = performance.now();
  #upConnected = false;
  #upClosed = true;
  #downClosed = false;
  #closingLocally = false;
  #heldDown: Uint8Array | undefined;
  #heldUp: Uint8Array | undefined;
  #logged = false;

  constructor(proxy: ConnectionHost, down: Deno.TcpConn, connectionId: number) {
    this.#proxy = proxy;
    this.#down = down;
    this.#connectionId = connectionId;
    const source = down.remoteAddr;
    const destination = down.localAddr;
    this.#record = {
      start: new Date(),
      cluster: null,
      overridden: false,
      source: formatHostPort(source.hostname, source.port),
      destination: formatHostPort(destination.hostname, destination.port),
      upstream: null,
      bytesReceived: 0,
      bytesSent: 0,
      durationMs: 0,
    };
  }

  async run(vmPromise: Promise<ProxyWasmVm>): Promise<void> {
    let vm: ProxyWasmVm;
    try {
      vm = await vmPromise;
    } catch (error) {
      this.#fail(`the filter could not be loaded: ${errorText(error)}`);
      return;
    }
    if (this.#downClosed) return;
    const opened = this.#filterCall(() =>
      vm.openConnection({
        source: this.#record.source,
        destination: this.#record.destination,
        connectionId: this.#connectionId,
      })
    );
    if (opened === TRAPPED) return;
    this.#filter = opened;
    if (opened !== undefined && opened.newConnectionStatus !== 0) {
      // StopIteration: tcp_proxy waits until the filter calls proxy_continue_stream(Downstream)
      // (from a tick, say), or the connection goes away.
      const limit = this.#proxy.options.continueTimeoutMs ?? 10_000;
      const deadline = performance.now() + limit;
      while (
        !opened.continueRequested && !this.#downClosed &&
        vm.failure === undefined &&
        performance.now() < deadline
      ) {
        await new Promise((done) => setTimeout(done, 5));
      }
      if (this.#downClosed) return;
      if (!opened.continueRequested) {
        this.#fail(
          `the filter stopped the connection (StopIteration) and did not continue it within ${limit} ms`,
        );
        return;
      }
    }
    if (opened?.closeRequested.downstream) {
      this.#fail("the filter closed the connection");
      return;
    }
    const options = this.#proxy.options;
    const chosen = opened?.filterState.get(TCP_PROXY_CLUSTER_KEY);
    const cluster = chosen ?? options.defaultCluster;
    this.#record.cluster = cluster;
    this.#record.overridden = chosen !== undefined;
    const target = options.clusters.get(cluster);
    if (target === undefined) {
      this.#fail(`no cluster named "${cluster}"`);
      return;
    }
    this.#record.upstream = formatHostPort(target.host, target.port);
    this.#upClosed = false;
    this.#upReady = this.#connectUpstream(target);
    void this.#pumpDown();
  }

  /** Runs a filter call; a trap closes this connection, a VM failed elsewhere turns the filter off. */
  #filterCall<T>(call: () => T): T | undefined | typeof TRAPPED {
    try {
      return call();
    } catch (error) {
      if (error instanceof WasmVmFailedError) {
        this.#filter = undefined;
        return undefined;
      }
      this.#filter = undefined;
      this.#fail(
        error instanceof WasmTrapError
          ? `the filter trapped: ${error.message}`
          : `the filter host failed: ${errorText(error)}`,
      );
      return TRAPPED;
    }
  }

  async #connectUpstream(target: HostPort): Promise<boolean> {
    let up: Deno.TcpConn;
    try {
      up = await this.#proxy.connect(target);
    } catch (error) {
      this.#fail(
        `upstream connect error: ${connectErrorText(error, target)}`,
      );
      return false;
    }
    if (this.#upClosed) {
      // The connection ended while this connect was under way.
      this.#proxy.release(up);
      return false;
    }
    this.#up = up;
    this.#upConnected = true;
    void this.#pumpUp(up);
    return true;
  }

  /** Downstream → filter → upstream, until the downstream ends. */
  async #pumpDown(): Promise<void> {
    const buffer = takeBuffer();
    try {
      while (true) {
        let n: number | null;
        try {
          n = await this.#down.read(buffer);
        } catch (error) {
          if (!this.#downClosed) {
            this.#fail(`downstream error: ${errorText(error)}`);
          }
          return;
        }
        if (this.#downClosed) return;
        if (n === null) return await this.#onDownEnd();
        this.#record.bytesReceived += n;
        const data = this.#throughFilter(true, buffer.subarray(0, n), false);
        if (data !== undefined && !(await this.#toUpstream(data))) return;
      }
    } finally {
      releaseBuffer(buffer);
    }
  }

  async #onDownEnd(): Promise<void> {
    const data = this.#throughFilter(true, EMPTY, true);
    if (data === undefined && this.#downClosed) return;
    if (data !== undefined && !(await this.#toUpstream(data))) return;
    if (!(await this.#upReady) || this.#upClosed) return;
    try {
      await this.#up!.closeWrite();
    } catch {
      // Gone already: its read loop says why.
    }
  }

  /** Upstream → filter → downstream, until the upstream ends. */
  async #pumpUp(up: Deno.TcpConn): Promise<void> {
    const buffer = takeBuffer();
    try {
      while (true) {
        let n: number | null;
        try {
          n = await up.read(buffer);
        } catch (error) {
          if (!this.#upClosed) {
            this.#fail(`upstream error: ${errorText(error)}`);
          }
          return;
        }
        if (this.#upClosed) return;
        if (n === null) return await this.#onUpEnd();
        const data = this.#throughFilter(false, buffer.subarray(0, n), false);
        if (data !== undefined && !(await this.#toDownstream(data))) return;
      }
    } finally {
      releaseBuffer(buffer);
    }
  }

  async #onUpEnd(): Promise<void> {
    const data = this.#throughFilter(false, EMPTY, true);
    if (data !== undefined && !(await this.#toDownstream(data))) return;
    // tcp_proxy closes the downstream (after flushing) when the upstream goes.
    this.#endDown();
  }

  /**
   * Shows data to the filter. StopIteration keeps it (and the next call sees
   * it again with what follows, as Envoy's buffer does); returns what to pass
   * on, or undefined. At the end of the stream whatever is held is passed on.
   */
  #throughFilter(
    downstream: boolean,
    chunk: Uint8Array,
    endOfStream: boolean,
  ): Uint8Array | undefined {
    const held = downstream ? this.#heldDown : this.#heldUp;
    const bytes = held === undefined ? chunk : concat(held, chunk);
    const filter = this.#filter;
    if (filter === undefined) return bytes;
    const result = this.#filterCall(() =>
      downstream
        ? filter.downstreamData(bytes, endOfStream)
        : filter.upstreamData(bytes, endOfStream)
    );
    if (result === TRAPPED) return undefined;
    if (result === undefined) return bytes;
    if (filter.closeRequested.downstream || filter.closeRequested.upstream) {
      this.#fail("the filter closed the connection");
      return undefined;
    }
    if (result.status !== 0 && !endOfStream) {
      // What is held may be a view of a pooled read buffer: keep a copy.
      if (downstream) this.#heldDown = result.data.slice();
      else this.#heldUp = result.data.slice();
      return undefined;
    }
    if (downstream) this.#heldDown = undefined;
    else this.#heldUp = undefined;
    return result.data;
  }

  /**
   * Writes toward the upstream, once it is connected; false when it is gone.
   * The downstream is not read meanwhile (back-pressure).
   */
  async #toUpstream(data: Uint8Array): Promise<boolean> {
    if (data.length === 0) return true;
    if (!(await this.#upReady) || this.#upClosed) return false;
    try {
      await writeAll(this.#up!, data);
      return true;
    } catch (error) {
      if (!this.#upClosed) this.#fail(`upstream error: ${errorText(error)}`);
      return false;
    }
  }

  /** Writes toward the downstream; the upstream is not read meanwhile. */
  async #toDownstream(data: Uint8Array): Promise<boolean> {
    if (this.#downClosed) return false;
    if (data.length === 0) return true;
    this.#record.bytesSent += data.length;
    try {
      await writeAll(this.#down, data);
      return true;
    } catch (error) {
      if (!this.#downClosed) {
        this.#fail(`downstream error: ${errorText(error)}`);
      }
      return false;
    }
  }

  /**
   * Closes the downstream: what was written is sent, then the FIN (close does
   * both; a shutdown first would cost a system call and change nothing).
   */
  #endDown(): void {
    this.#closingLocally = true;
    this.#closeDown();
  }

  /** Ends the connection with a reason for the access log. */
  fail(reason: string): void {
    this.#fail(reason);
  }

  #fail(reason: string): void {
    this.#record.reason ??= reason;
    this.#closingLocally = true;
    this.#closeUp(false);
    this.#closeDown();
  }

  #closeDown(): void {
    if (this.#downClosed) return;
    this.#downClosed = true;
    this.#proxy.release(this.#down);
    if (this.#filter !== undefined) {
      const filter = this.#filter;
      this.#filterCall(() =>
        filter.closeDownstream(this.#closingLocally ? "local" : "remote")
      );
    }
    if (!this.#upClosed) {
      const up = this.#up;
      if (up === undefined) {
        // Still connecting: closed as soon as the connect settles.
        this.#upClosed = true;
      } else {
        this.#closeUp();
        return;
      }
    }
    this.#maybeLog();
  }

  /** Closes the upstream; `endDown`: then end the downstream as tcp_proxy does when its upstream goes. */
  #closeUp(endDown = true): void {
    if (this.#upClosed) return;
    this.#upClosed = true;
    if (this.#up !== undefined) this.#proxy.release(this.#up);
    if (endDown && !this.#downClosed) this.#endDown();
    this.#maybeLog();
  }

  #maybeLog(): void {
    if (this.#logged || !this.#downClosed || !this.#upClosed) return;
    this.#logged = true;
    this.#record.durationMs = performance.now() - this.#started;
    this.#proxy.options.onAccess?.(formatAccessLog(this.#record), this.#record);
  }
}

const TRAPPED = Symbol("trapped");
const EMPTY = new Uint8Array(0);

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let written = 0;
  while (written < data.length) {
    written += await conn.write(data.subarray(written));
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
