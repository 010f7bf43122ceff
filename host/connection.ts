/**
 * One TCP connection through a filter: the stream context Envoy's network
 * wasm filter keeps, driven by the caller (a test, `wasmerang route`, or the
 * local data plane).
 *
 * @module
 */
import { PeerType } from "./abi.ts";
import type { ContextState } from "./context.ts";
import { filterStatus, type VmCore } from "./core.ts";
import type { LogEntry } from "./types.ts";

/** What a data callback answered: its FilterStatus and the data after any `proxy_set_buffer_bytes`. */
export interface DataResult {
  /** FilterStatus: 0 Continue, 1 StopIteration (any non-zero return). */
  status: number;
  /** The bytes to pass on (the filter may have prepended, replaced or appended). */
  data: Uint8Array;
}

/**
 * A connection's filter context. Created by `ProxyWasmVm.openConnection`,
 * which has already called `proxy_on_context_create` and
 * `proxy_on_new_connection`. Envoy's order follows: data callbacks, the close
 * callbacks, then `proxy_on_done`, `proxy_on_log`, `proxy_on_delete` — which
 * happen by themselves when the downstream closes, or through {@link finish}.
 *
 * After the VM failed (a trap anywhere), data calls throw `WasmVmFailedError`;
 * close and finish calls do nothing, as Envoy skips a failed VM.
 *
 * @example
 * ```ts
 * import { ProxyWasmVm, TCP_PROXY_CLUSTER_KEY } from "./mod.ts";
 * const wasm = await Deno.readFile("filter/build/wasmerang.wasm");
 * const vm = await ProxyWasmVm.load(wasm, { rootId: "wasmerang" });
 * const connection = vm.openConnection({ source: "10.0.0.3:5555", destination: "10.96.0.1:443" });
 * connection.filterState.get(TCP_PROXY_CLUSTER_KEY); // "egress2"
 * connection.downstreamData(new TextEncoder().encode("hello"));
 * connection.closeDownstream("remote"); // close callback, then done, log, delete
 * vm.close();
 * ```
 */
export class TcpConnection {
  /** The context id (2, 3, … in the order connections were opened). */
  readonly id: number;
  /** FilterStatus `proxy_on_new_connection` returned (Continue when not exported). */
  readonly newConnectionStatus: number;
  #core: VmCore;
  #context: ContextState;
  #downstreamClosed = false;
  #upstreamClosed = false;
  #finished = false;

  /** @internal Use `ProxyWasmVm.openConnection`. */
  constructor(
    core: VmCore,
    context: ContextState,
    newConnectionStatus: number,
  ) {
    this.#core = core;
    this.#context = context;
    this.id = context.id;
    this.newConnectionStatus = newConnectionStatus;
  }

  /** What `set_envoy_filter_state` stored for this connection, e.g. `envoy.tcp_proxy.cluster`. */
  get filterState(): ReadonlyMap<string, string> {
    return this.#context.filterState;
  }

  /** This connection's log lines (those written while its context was current or effective). */
  get logs(): LogEntry[] {
    return this.#context.logs;
  }

  /** Metric changes made during this connection's callbacks, by metric name. */
  metrics(): Record<string, number> {
    return Object.fromEntries(this.#context.metricDeltas);
  }

  /** Which streams the filter asked to close with `proxy_close_stream`. */
  get closeRequested(): {
    readonly downstream: boolean;
    readonly upstream: boolean;
  } {
    return this.#context.closeRequested;
  }

  /** Whether the filter called `proxy_continue_stream(Downstream)` (resume after StopIteration). */
  get continueRequested(): boolean {
    return this.#context.continueRequested;
  }

  /** Whether done/log/delete already ran (or the connection was abandoned by a failed VM). */
  get finished(): boolean {
    return this.#finished;
  }

  /**
   * Bytes from the downstream (client): `proxy_on_downstream_data(id, size,
   * end_of_stream)` with the bytes readable as NetworkDownstreamData.
   */
  downstreamData(bytes: Uint8Array, endOfStream = false): DataResult {
    return this.#data("proxy_on_downstream_data", true, bytes, endOfStream);
  }

  /**
   * Bytes from the upstream (server): `proxy_on_upstream_data`. With
   * `endOfStream`, Envoy then reports the upstream closed
   * (`proxy_on_upstream_connection_close(id, Unknown)`), and so does this.
   */
  upstreamData(bytes: Uint8Array, endOfStream = false): DataResult {
    const result = this.#data(
      "proxy_on_upstream_data",
      false,
      bytes,
      endOfStream,
    );
    if (endOfStream) this.#upstreamClose(PeerType.Unknown);
    return result;
  }

  #data(
    hook: string,
    downstream: boolean,
    bytes: Uint8Array,
    endOfStream: boolean,
  ): DataResult {
    this.#core.checkAlive();
    if (this.#finished) {
      throw new Error(`connection ${this.id} is finished: no more data`);
    }
    const callback = this.#core.callbacks.get(hook);
    if (!this.#context.createdInVm || callback === undefined) {
      return { status: 0, data: bytes };
    }
    const context = this.#context;
    if (downstream) context.downstreamData = bytes;
    else context.upstreamData = bytes;
    try {
      const status = filterStatus(
        this.#core.invoke(
          hook,
          callback,
          context,
          this.id,
          bytes.length,
          endOfStream ? 1 : 0,
        ),
      );
      const data =
        (downstream ? context.downstreamData : context.upstreamData) ?? bytes;
      return { status, data };
    } finally {
      context.downstreamData = null;
      context.upstreamData = null;
    }
  }

  /**
   * The downstream connection closed: `proxy_on_downstream_connection_close(id,
   * 1 local | 2 remote)`, then, as Envoy does at once, done, log and delete.
   */
  closeDownstream(peer: "local" | "remote"): void {
    if (this.#downstreamClosed || this.#finished) return;
    this.#downstreamClosed = true;
    this.#closeCallback("proxy_on_downstream_connection_close", peerType(peer));
    this.finish();
  }

  /**
   * The upstream connection closed: `proxy_on_upstream_connection_close(id,
   * 1 local | 2 remote)`; reported once per connection.
   */
  closeUpstream(peer: "local" | "remote"): void {
    this.#upstreamClose(peerType(peer));
  }

  #upstreamClose(peer: number): void {
    if (this.#upstreamClosed || this.#finished) return;
    this.#upstreamClosed = true;
    this.#closeCallback("proxy_on_upstream_connection_close", peer);
  }

  #closeCallback(hook: string, peer: number): void {
    const callback = this.#core.callbacks.get(hook);
    if (
      this.#core.failure !== undefined || !this.#context.createdInVm ||
      callback === undefined
    ) {
      return;
    }
    this.#core.invoke(hook, callback, this.#context, this.id, peer);
  }

  /**
   * Ends the context: `proxy_on_done`, `proxy_on_log`, `proxy_on_delete`.
   * Idempotent; does nothing more after the VM failed.
   */
  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    const core = this.#core;
    try {
      if (core.failure === undefined && this.#context.createdInVm) {
        for (
          const hook of ["proxy_on_done", "proxy_on_log", "proxy_on_delete"]
        ) {
          const callback = core.callbacks.get(hook);
          if (callback !== undefined) {
            core.invoke(hook, callback, this.#context, this.id);
          }
        }
      }
    } finally {
      core.contexts.delete(this.id);
      core.openConnections.delete(this);
    }
  }
}

function peerType(peer: "local" | "remote"): number {
  if (peer === "local") return PeerType.Local;
  if (peer === "remote") return PeerType.Remote;
  throw new TypeError(
    `peer must be "local" or "remote", not ${JSON.stringify(peer)}`,
  );
}
