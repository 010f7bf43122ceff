/**
 * `ProxyWasmVm`: one proxy-wasm plugin in one VM, started and configured the
 * way Envoy does it, ready to open connections.
 *
 * @module
 */
import type { AbiVersion } from "./abi.ts";
import { TcpConnection } from "./connection.ts";
import { filterStatus, VmCore } from "./core.ts";
import type { WasmTrapError } from "./errors.ts";
import type { ConnectionOptions, LogEntry, VmOptions } from "./types.ts";

/**
 * A proxy-wasm VM running one plugin, behaving like Envoy's
 * (proxy-wasm-cpp-host) for network filters: the module is linked against the
 * host functions of its ABI version (0.1.0, 0.2.0 or 0.2.1) and WASI, started
 * (`_initialize` and `main`, or `_start`), then its root context (id 1) gets
 * `proxy_on_context_create(1, 0)`, `proxy_on_vm_start` and `proxy_on_configure`.
 *
 * Failure is Envoy's too: after a trap the VM is failed for good; further
 * `openConnection`, data and `tick` calls throw `WasmVmFailedError` (close and
 * finish calls do nothing). Load a new VM to go on.
 *
 * @example
 * ```ts
 * import { ProxyWasmVm, TCP_PROXY_CLUSTER_KEY } from "./mod.ts";
 * const wasm = await Deno.readFile("filter/build/wasmerang.wasm");
 * const vm = await ProxyWasmVm.load(wasm, { rootId: "wasmerang", configuration: "istio" });
 * const connection = vm.openConnection({ source: "10.0.0.2:5555", destination: "10.96.0.1:443" });
 * console.log(connection.filterState.get(TCP_PROXY_CLUSTER_KEY), connection.logs);
 * connection.finish();
 * console.log(vm.metrics());
 * vm.close();
 * ```
 */
export class ProxyWasmVm {
  #core: VmCore;

  private constructor(core: VmCore) {
    this.#core = core;
  }

  /**
   * Loads and starts a plugin. Throws `WasmLoadError` (bad bytes, unknown
   * ABI, missing import, start section calling the host, no malloc),
   * `WasmTrapError` (a trap while starting), or `ConfigurationRejectedError`
   * (`proxy_on_vm_start` or `proxy_on_configure` returned false; the message
   * carries the filter's error lines).
   */
  static async load(
    wasm: Uint8Array | WebAssembly.Module,
    options: VmOptions,
  ): Promise<ProxyWasmVm> {
    return new ProxyWasmVm(await VmCore.load(wasm, options));
  }

  /** The ABI version the module declares: `"0.1.0"`, `"0.2.0"` or `"0.2.1"`. */
  get abiVersion(): AbiVersion {
    return this.#core.abiVersion;
  }

  /** Every kept log line of the VM (root context and connections), oldest first. */
  get logs(): LogEntry[] {
    return this.#core.logs;
  }

  /** The trap that failed the VM, if any. */
  get failure(): WasmTrapError | undefined {
    return this.#core.failure;
  }

  /** The tick period the plugin asked for with `proxy_set_tick_period_milliseconds` (0: none). */
  get tickPeriodMilliseconds(): number {
    return this.#core.tickPeriodMilliseconds;
  }

  /** Metrics by name: counters and gauges by value, histograms by number of samples. */
  metrics(): Record<string, number> {
    return this.#core.metrics.snapshot();
  }

  /** Current size of the module's linear memory in bytes. */
  memoryBytes(): number {
    return this.#core.memory.byteLength;
  }

  /**
   * A new connection: `proxy_on_context_create(id, 1)` then
   * `proxy_on_new_connection(id)` (skipped silently, as Continue, when the
   * module does not export it). Properties answer from the given addresses.
   */
  openConnection(options: ConnectionOptions): TcpConnection {
    const core = this.#core;
    core.checkAlive();
    if (core.closed) throw new Error("the VM is closed: load a new one");
    const connectionId = options.connectionId === undefined
      ? undefined
      : BigInt(options.connectionId);
    const context = core.newConnectionContext(
      String(options.source),
      String(options.destination),
      connectionId,
    );
    let status = 0;
    try {
      core.createInVm(context);
      const onNew = core.callbacks.get("proxy_on_new_connection");
      if (onNew !== undefined) {
        status = filterStatus(
          core.invoke("proxy_on_new_connection", onNew, context, context.id),
        );
      }
    } catch (error) {
      core.contexts.delete(context.id);
      throw error;
    }
    const connection = new TcpConnection(core, context, status);
    core.openConnections.add(connection);
    return connection;
  }

  /** Calls `proxy_on_tick` on the root context (what Envoy's timer does each period). */
  tick(): void {
    const core = this.#core;
    core.checkAlive();
    const onTick = core.callbacks.get("proxy_on_tick");
    if (onTick !== undefined) {
      core.invoke("proxy_on_tick", onTick, core.root, core.root.id);
    }
  }

  /**
   * Shuts the plugin down: finishes open connections, then `proxy_on_done`
   * on the root context and, when it returns true, `proxy_on_delete` (else
   * when the plugin later calls `proxy_done`). Idempotent.
   */
  close(): void {
    const core = this.#core;
    if (core.closed) return;
    core.closed = true;
    for (const connection of [...core.openConnections]) connection.finish();
    if (core.failure !== undefined) return;
    const root = core.root;
    const onDone = core.callbacks.get("proxy_on_done");
    const done = onDone === undefined
      ? 1
      : core.invoke("proxy_on_done", onDone, root, root.id);
    if (done === 0) {
      core.rootPendingDone = true;
      return;
    }
    const onDelete = core.callbacks.get("proxy_on_delete");
    if (onDelete !== undefined) {
      core.invoke("proxy_on_delete", onDelete, root, root.id);
    }
  }
}
