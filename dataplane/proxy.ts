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
 * Sockets are `Deno.listen`/`Deno.connect` (dataplane/deno_net.ts); one
 * connection's life is dataplane/connection.ts.
 *
 * @module
 */
import type { LogEntry } from "../host/mod.ts";
import type { AccessRecord } from "./access_log.ts";
import type { HostPort } from "../lib/address.ts";
import { FilterVm, noteProxyEvent } from "./filter_vm.ts";
import { ConnectSweep, errorText, listenTcp } from "./deno_net.ts";
import { type ConnectionHost, ProxiedConnection } from "./connection.ts";

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

class Proxy implements LocalProxy, ConnectionHost {
  address: HostPort;
  #options: ProxyOptions;
  #listener: Deno.TcpListener | undefined;
  #accepting: Promise<void> | undefined;
  #filterVm: FilterVm;
  #connects: ConnectSweep;
  #conns = new Set<Deno.Conn>();
  #nextConnectionId = 0;
  #closed = false;

  constructor(options: ProxyOptions) {
    this.#options = options;
    this.address = options.listen;
    this.#filterVm = new FilterVm(options);
    this.#connects = new ConnectSweep(options.connectTimeoutMs ?? 5000);
  }

  async start(): Promise<void> {
    await this.#filterVm.start();
    const listener = listenTcp(this.#options.listen, "proxy");
    this.#listener = listener;
    this.address = { host: listener.addr.hostname, port: listener.addr.port };
    this.#accepting = this.#acceptLoop(listener);
  }

  get vmLoads(): number {
    return this.#filterVm.loads;
  }

  async #acceptLoop(listener: Deno.TcpListener): Promise<void> {
    while (!this.#closed) {
      let down: Deno.TcpConn;
      try {
        down = await listener.accept();
      } catch (error) {
        if (this.#closed) return;
        if (
          error instanceof Deno.errors.NotConnected ||
          error instanceof Deno.errors.ConnectionReset ||
          error instanceof Deno.errors.ConnectionAborted
        ) {
          // Reset while it waited to be accepted: its peer address is gone
          // (accept reads it), and routing it would mean a made-up source.
          noteProxyEvent(
            this.#options.onFilterLog,
            "warn",
            "a connection was reset before its peer address could be read: dropped, not routed",
          );
          continue;
        }
        // Accept failing otherwise (out of file descriptors, …) must not end
        // the process; a pause lets connections close meanwhile.
        console.error(`proxy: ${errorText(error)}`);
        await new Promise((done) => setTimeout(done, 50));
        continue;
      }
      this.#accept(down);
    }
  }

  #accept(down: Deno.TcpConn): void {
    if (this.#closed) {
      closeQuietly(down);
      return;
    }
    this.#conns.add(down);
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
    return this.#conns.size + this.#connects.size;
  }

  wasmMemoryBytes(): number {
    return this.#filterVm.memoryBytes();
  }

  /** Connects to an upstream, within the connect timeout. */
  async connect(target: HostPort): Promise<Deno.TcpConn> {
    const up = await this.#connects.connect(target);
    this.#conns.add(up);
    return up;
  }

  /** Closes a socket of a connection and forgets it. */
  release(conn: Deno.Conn): void {
    this.#conns.delete(conn);
    closeQuietly(conn);
  }

  get options(): ProxyOptions {
    return this.#options;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#filterVm.stopTicks();
    this.#listener?.close();
    this.#connects.abortAll();
    for (const conn of this.#conns) closeQuietly(conn);
    await this.#accepting;
    await this.#filterVm.close();
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Closed already.
  }
}
