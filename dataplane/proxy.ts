/**
 * The local TCP proxy: Envoy's network filter chain reduced to what the
 * example needs — the wasm filter, then tcp_proxy. Each accepted connection
 * gets a filter context with the socket's real addresses; the cluster comes
 * from the filter state `envoy.tcp_proxy.cluster` (else the default cluster,
 * as tcp_proxy's `cluster:`); bytes are piped both ways with half-close and
 * shown to the filter on the way; one access-log line per connection.
 *
 * A trap fails the VM, as in Envoy: the trapping connection is closed and
 * logged, a fresh VM takes the next connections, and connections already open
 * on the failed VM go on without the filter.
 *
 * @module
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import {
  type LogEntry,
  type ProxyWasmVm,
  TCP_PROXY_CLUSTER_KEY,
  type TcpConnection,
  WasmTrapError,
  WasmVmFailedError,
} from "../host/mod.ts";
import { type AccessRecord, formatAccessLog } from "./access_log.ts";
import { formatHostPort, type HostPort } from "../lib/address.ts";
import { FilterVm, noteProxyEvent } from "./filter_vm.ts";
import { closeServer, listen } from "./net_util.ts";

/** How to run the proxy. */
export interface ProxyOptions {
  /** Where to listen (port 0: any free port). */
  listen: HostPort;
  /** Cluster name → the one endpoint it has. */
  clusters: ReadonlyMap<string, HostPort>;
  /** The cluster used when the filter sets none (tcp_proxy's `cluster:`). */
  defaultCluster: string;
  /** The filter module and how to start it. */
  wasm: Uint8Array;
  /** The plugin's root id. */
  rootId: string;
  /** The plugin configuration. */
  configuration: string;
  /** Called with each access-log line and its record. */
  onAccess?: (line: string, record: AccessRecord) => void;
  /** Called with each log line of the filter (and the proxy's notes about the VM). */
  onFilterLog?: (entry: LogEntry) => void;
  /** Upstream connect timeout (default 5 s). */
  connectTimeoutMs?: number;
  /** How long a connection the filter stopped may wait for `proxy_continue_stream` (default 10 s). */
  continueTimeoutMs?: number;
}

/** A running proxy. */
export interface LocalProxy {
  /** Where it listens (the real port when 0 was asked). */
  readonly address: HostPort;
  /** How many VMs were loaded (1 + one per trap). */
  readonly vmLoads: number;
  /** Sockets open right now, downstream and upstream. */
  readonly openSockets: number;
  /** Size in bytes of the current filter VM's linear memory. */
  wasmMemoryBytes(): number;
  /** Stops accepting, closes every connection and the VM. */
  close(): Promise<void>;
}

/** Starts the proxy; the first VM is loaded (and its configuration accepted) before it listens. */
export async function startProxy(options: ProxyOptions): Promise<LocalProxy> {
  const proxy = new Proxy(options);
  await proxy.start();
  return proxy;
}

class Proxy implements LocalProxy {
  address: HostPort;
  #options: ProxyOptions;
  #server: Server;
  #filterVm: FilterVm;
  #sockets = new Set<Socket>();
  #nextConnectionId = 0;
  #closed = false;

  constructor(options: ProxyOptions) {
    this.#options = options;
    this.address = options.listen;
    this.#filterVm = new FilterVm(options);
    this.#server = createServer(
      { allowHalfOpen: true },
      (socket) => this.#accept(socket),
    );
  }

  async start(): Promise<void> {
    await this.#filterVm.start();
    this.address = await listen(this.#server, this.#options.listen, "proxy");
  }

  get vmLoads(): number {
    return this.#filterVm.loads;
  }

  #accept(down: Socket): void {
    if (this.#closed) {
      down.destroy();
      return;
    }
    if (!down.remoteAddress || down.remotePort === undefined) {
      // Reset before its peer address could be read: routing it would mean a made-up source.
      down.destroy();
      noteProxyEvent(
        this.#options.onFilterLog,
        "warn",
        "a connection was reset before its peer address could be read: dropped, not routed",
      );
      return;
    }
    this.#sockets.add(down);
    down.on("close", () => this.#sockets.delete(down));
    const connection = new ProxiedConnection(
      this,
      down,
      this.#nextConnectionId++,
    );
    connection.run(this.#filterVm.current()).catch((error) =>
      connection.fail(`proxy error: ${errorText(error)}`)
    );
  }

  get openSockets(): number {
    return this.#sockets.size;
  }

  wasmMemoryBytes(): number {
    return this.#filterVm.memoryBytes();
  }

  track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on("close", () => this.#sockets.delete(socket));
  }

  get options(): ProxyOptions {
    return this.#options;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#filterVm.stopTicks();
    const closed = closeServer(this.#server);
    for (const socket of this.#sockets) socket.destroy();
    await closed;
    await this.#filterVm.close();
  }
}

/** One downstream connection through the filter and tcp_proxy. */
class ProxiedConnection {
  #proxy: Proxy;
  #down: Socket;
  #up: Socket | undefined;
  #connectionId: number;
  #filter: TcpConnection | undefined;
  #record: AccessRecord;
  #started = performance.now();
  #upConnected = false;
  #upClosed = true;
  #downClosed = false;
  #closingLocally = false;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #downEnded = false;
  #heldDown: Uint8Array | undefined;
  #heldUp: Uint8Array | undefined;
  #logged = false;

  constructor(proxy: Proxy, down: Socket, connectionId: number) {
    this.#proxy = proxy;
    this.#down = down;
    this.#connectionId = connectionId;
    this.#record = {
      start: new Date(),
      cluster: null,
      overridden: false,
      source: formatHostPort(down.remoteAddress, down.remotePort),
      destination: formatHostPort(down.localAddress, down.localPort),
      upstream: null,
      bytesReceived: 0,
      bytesSent: 0,
      durationMs: 0,
    };
    down.on(
      "error",
      (error) => this.#fail(`downstream error: ${errorText(error)}`),
    );
    down.on("close", () => this.#onDownClose());
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
    this.#connectUpstream(target);
    this.#down.on("data", (chunk: Uint8Array) => this.#onDownData(chunk));
    // Back-pressure: a downstream that does not read holds the upstream.
    this.#down.on("drain", () => this.#up?.resume());
    this.#down.on("end", () => this.#onDownEnd());
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

  #connectUpstream(target: HostPort): void {
    const up = connect({
      host: target.host,
      port: target.port,
      allowHalfOpen: true,
    });
    this.#up = up;
    this.#upClosed = false;
    this.#proxy.track(up);
    const timeout = setTimeout(
      () => up.destroy(new Error("connect timeout")),
      this.#proxy.options.connectTimeoutMs ?? 5000,
    );
    up.on("connect", () => {
      clearTimeout(timeout);
      this.#upConnected = true;
      let more = true;
      for (const chunk of this.#queue) more = up.write(chunk);
      this.#queue = [];
      this.#queued = 0;
      if (more) this.#down.resume();
      if (this.#downEnded) up.end();
    });
    up.on("data", (chunk: Uint8Array) => this.#onUpData(chunk));
    // Back-pressure: an upstream that does not read holds the downstream.
    up.on("drain", () => this.#down.resume());
    up.on("end", () => this.#onUpEnd());
    up.on("error", (error) => {
      clearTimeout(timeout);
      const what = this.#upConnected
        ? "upstream error"
        : "upstream connect error";
      this.#fail(`${what}: ${errorText(error)}`);
    });
    up.on("close", () => {
      clearTimeout(timeout);
      this.#upClosed = true;
      // tcp_proxy closes the downstream (after flushing) when the upstream goes.
      if (!this.#downClosed) this.#endDown();
      this.#maybeLog();
    });
  }

  #onDownData(chunk: Uint8Array): void {
    this.#record.bytesReceived += chunk.length;
    const data = this.#throughFilter(true, chunk, false);
    if (data !== undefined) this.#toUpstream(data);
  }

  #onDownEnd(): void {
    this.#downEnded = true;
    const data = this.#throughFilter(true, new Uint8Array(0), true);
    if (data === undefined && this.#downClosed) return;
    if (data !== undefined && data.length > 0) this.#toUpstream(data);
    if (this.#upConnected) this.#up?.end();
  }

  #onUpData(chunk: Uint8Array): void {
    const data = this.#throughFilter(false, chunk, false);
    if (data !== undefined && data.length > 0) this.#toDownstream(data);
  }

  #onUpEnd(): void {
    const data = this.#throughFilter(false, new Uint8Array(0), true);
    if (data !== undefined && data.length > 0) this.#toDownstream(data);
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
      if (downstream) this.#heldDown = result.data;
      else this.#heldUp = result.data;
      return undefined;
    }
    if (downstream) this.#heldDown = undefined;
    else this.#heldUp = undefined;
    return result.data;
  }

  /**
   * Writes toward the upstream (queued until it is connected). Like Envoy's
   * buffer limits, a full write buffer or queue (more than 64 KiB) pauses
   * reading the downstream until the upstream drains.
   */
  #toUpstream(data: Uint8Array): void {
    if (data.length === 0) return;
    if (this.#upConnected) {
      if (!this.#up!.write(data)) this.#down.pause();
      return;
    }
    this.#queue.push(data);
    this.#queued += data.length;
    if (this.#queued > QUEUE_LIMIT) this.#down.pause();
  }

  /** Writes toward the downstream; a full write buffer pauses reading the upstream. */
  #toDownstream(data: Uint8Array): void {
    if (this.#downClosed) return;
    this.#record.bytesSent += data.length;
    if (!this.#down.write(data)) this.#up?.pause();
  }

  #endDown(): void {
    if (this.#downClosed) return;
    this.#closingLocally = true;
    this.#down.end(() => this.#down.destroy());
  }

  /** Ends the connection with a reason for the access log. */
  fail(reason: string): void {
    this.#fail(reason);
  }

  #fail(reason: string): void {
    this.#record.reason ??= reason;
    this.#closingLocally = true;
    this.#up?.destroy();
    this.#down.destroy();
  }

  #onDownClose(): void {
    this.#downClosed = true;
    if (this.#filter !== undefined) {
      const filter = this.#filter;
      this.#filterCall(() =>
        filter.closeDownstream(this.#closingLocally ? "local" : "remote")
      );
    }
    if (this.#up !== undefined && !this.#upClosed) {
      const up = this.#up;
      if (this.#upConnected) up.end(() => up.destroy());
      else up.destroy();
    }
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

/** Bytes held for an upstream that is still connecting before the downstream is paused. */
const QUEUE_LIMIT = 64 * 1024;

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function errorText(error: unknown): string {
  const code = (error as { code?: string })?.code;
  const message = error instanceof Error ? error.message : String(error);
  return code !== undefined && !message.includes(code)
    ? `${code} ${message}`
    : message;
}
