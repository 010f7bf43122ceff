/**
 * The engine under `ProxyWasmVm` and `TcpConnection`: starting a module
 * (`loader.ts` compiles and links it), the contexts, calls into the module
 * with Envoy's bookkeeping (current and effective context, deferred actions),
 * traps, logs and metrics.
 *
 * @module
 */
import { type AbiVersion, LOG_LEVELS } from "./abi.ts";
import { ContextState } from "./context.ts";
import {
  ConfigurationRejectedError,
  WasmLoadError,
  WasmTrapError,
  WasmVmFailedError,
} from "./errors.ts";
import { proxyImports } from "./imports.ts";
import {
  abiVersionOf,
  checkedExports,
  compileModule,
  instantiationError,
  linkImports,
} from "./loader.ts";
import { LinearMemory, utf8 } from "./memory.ts";
import { MetricRegistry } from "./metrics.ts";
import type { HostRuntime } from "./runtime.ts";
import { SharedData, SharedQueues } from "./shared.ts";
import {
  ProcExit,
  RestrictedCall,
  StartSectionCall,
  trapDetail,
} from "./traps.ts";
import type {
  Callback,
  ConnectionFacts,
  HostFunction,
  LogEntry,
  PluginFacts,
  VmOptions,
} from "./types.ts";
import { START_ALLOWED, wasiImports } from "./wasi.ts";

const bytesOf = (value: string | Uint8Array | undefined): Uint8Array =>
  value === undefined
    ? new Uint8Array(0)
    : typeof value === "string"
    ? utf8(value)
    : value;

/** Normalizes a network callback's return: any non-zero value is StopIteration (1). */
export const filterStatus = (value: number): number => (value === 0 ? 0 : 1);

/** The VM engine: implements what host functions need and what the public classes call. */
export class VmCore implements HostRuntime {
  readonly abiVersion: AbiVersion;
  readonly plugin: PluginFacts;
  readonly vmConfiguration: Uint8Array;
  readonly pluginConfiguration: Uint8Array;
  readonly logThreshold: number;
  readonly metrics: MetricRegistry = new MetricRegistry();
  readonly sharedData: SharedData = new SharedData();
  readonly queues: SharedQueues = new SharedQueues();
  #logs: LogEntry[] = [];
  restriction: ((key: string) => void) | null = null;

  /** Module callbacks by export name (undefined when not exported). */
  readonly callbacks: Map<string, Callback | undefined> = new Map();
  readonly contexts: Map<number, ContextState> = new Map();
  /** Connections not finished yet (finished when the VM closes). */
  readonly openConnections: Set<{ finish(): void }> = new Set();
  readonly vmContext: ContextState = new ContextState(0, 0);
  readonly root: ContextState = new ContextState(1, 0);
  failure: WasmTrapError | undefined;
  tickPeriodMilliseconds = 0;
  rootPendingDone = false;
  closed = false;

  #memory: LinearMemory | undefined;
  #current: ContextState = this.vmContext;
  #effectiveId = 0;
  #depth = 0;
  #afterCall: (() => void)[] = [];
  #lastErrorLine: string | undefined;
  #nextContextId = 2;
  #nextConnectionId = 0n;
  #onLog: ((entry: LogEntry) => void) | undefined;
  #logCapacity: number;

  private constructor(abiVersion: AbiVersion, options: VmOptions) {
    this.abiVersion = abiVersion;
    this.plugin = {
      rootId: utf8(options.rootId),
      pluginName: utf8(options.pluginName ?? ""),
      vmId: utf8(options.vmId ?? ""),
    };
    this.vmConfiguration = bytesOf(options.vmConfiguration);
    this.pluginConfiguration = bytesOf(options.configuration);
    const level = options.logLevel ?? "info";
    this.logThreshold = LOG_LEVELS.indexOf(level);
    if (this.logThreshold < 0) {
      throw new WasmLoadError(
        `unknown log level "${level}": use one of ${LOG_LEVELS.join(", ")}`,
      );
    }
    this.#onLog = options.onLog;
    this.#logCapacity = options.logCapacity ?? Infinity;
    this.contexts.set(0, this.vmContext);
    this.contexts.set(1, this.root);
  }

  /** Loads, links, instantiates and starts a module, then configures its root context. */
  static async load(
    wasm: Uint8Array | WebAssembly.Module,
    options: VmOptions,
  ): Promise<VmCore> {
    if (typeof options?.rootId !== "string") {
      throw new WasmLoadError(
        "missing rootId: pass the plugin's root_id in the VM options",
      );
    }
    const module = await compileModule(wasm);
    const core = new VmCore(abiVersionOf(module), options);
    const imports = linkImports(
      module,
      wasm instanceof Uint8Array ? wasm : undefined,
      [...proxyImports(core), ...wasiImports(core)],
      (key, fn) => core.#gate(key, fn),
    );
    const { kinds, allocator } = checkedExports(module);
    const instance = await core.#instantiate(module, imports);
    const exports = instance.exports as Record<string, unknown>;
    core.#memory = new LinearMemory(
      exports.memory as WebAssembly.Memory,
      exports[allocator] as (size: number) => number,
    );
    for (const [name, kind] of kinds) {
      if (kind === "function") {
        core.callbacks.set(name, exports[name] as Callback);
      }
    }
    core.#start();
    core.#configure();
    return core;
  }

  /** Every kept log line, oldest first, at most `logCapacity` of them. */
  get logs(): LogEntry[] {
    if (this.#logs.length > this.#logCapacity) this.#trimLogs();
    return this.#logs;
  }

  #trimLogs(): void {
    this.#logs.splice(0, this.#logs.length - this.#logCapacity);
  }

  get memory(): LinearMemory {
    if (this.#memory === undefined) {
      throw new StartSectionCall("memory is not ready");
    }
    return this.#memory;
  }

  /** Wraps a host function so restricted phases can refuse it. */
  #gate(key: string, fn: HostFunction): HostFunction {
    // Fixed arity keeps the wrapper cheap; extra arguments are ignored by `fn`.
    return (a, b, c, d, e, f, g, h, i, j, k, l) => {
      if (this.restriction !== null) this.restriction(key);
      return fn(a, b, c, d, e, f, g, h, i, j, k, l);
    };
  }

  async #instantiate(
    module: WebAssembly.Module,
    imports: WebAssembly.Imports,
  ): Promise<WebAssembly.Instance> {
    this.restriction = (key) => {
      throw new StartSectionCall(key);
    };
    try {
      return await WebAssembly.instantiate(module, imports);
    } catch (error) {
      throw instantiationError(error);
    } finally {
      this.restriction = null;
    }
  }

  #start(): void {
    this.restriction = (key) => {
      if (!START_ALLOWED.has(key)) throw new RestrictedCall(key);
    };
    try {
      const initialize = this.callbacks.get("_initialize");
      if (initialize !== undefined) {
        this.invoke("_initialize", initialize, this.vmContext);
        const main = this.callbacks.get("main");
        if (main !== undefined) this.invoke("main", main, this.vmContext, 0, 0);
      } else {
        const start = this.callbacks.get("_start");
        if (start !== undefined) this.invoke("_start", start, this.vmContext);
      }
    } finally {
      this.restriction = null;
    }
  }

  /**
   * `proxy_on_context_create(1, 0)`, `proxy_on_vm_start` and
   * `proxy_on_configure` on the root context; the PluginConfiguration buffer
   * is readable during the first and the last.
   */
  #configure(): void {
    const root = this.root;
    root.pluginConfigurationVisible = true;
    try {
      this.createInVm(root);
      root.pluginConfigurationVisible = false;
      this.#configureStep(
        "proxy_on_vm_start",
        this.vmConfiguration,
        "VM configuration",
      );
      root.pluginConfigurationVisible = true;
      this.#configureStep(
        "proxy_on_configure",
        this.pluginConfiguration,
        "configuration",
      );
    } finally {
      root.pluginConfigurationVisible = false;
    }
  }

  /** Calls a configuration hook when exported; false from it rejects `what`. */
  #configureStep(hook: string, configuration: Uint8Array, what: string): void {
    const callback = this.callbacks.get(hook);
    if (callback === undefined) return;
    const accepted = this.invoke(
      hook,
      callback,
      this.root,
      1,
      configuration.length,
    );
    if (accepted === 0) throw this.#rejected(hook, what);
  }

  #rejected(hook: string, what: string): ConfigurationRejectedError {
    const byLevel = (min: number) =>
      this.root.logs.filter((e) => LOG_LEVELS.indexOf(e.level) >= min).map((
        e,
      ) => e.message);
    let messages = byLevel(4);
    if (messages.length === 0) messages = byLevel(3);
    const said = messages.length > 0
      ? messages.join("; ")
      : "the filter logged no error";
    return new ConfigurationRejectedError(
      `the plugin rejected its ${what} (${hook} returned false): ${said}`,
      messages,
    );
  }

  /** Calls `proxy_on_context_create(id, parent)` when exported and marks the context created. */
  createInVm(context: ContextState): void {
    const create = this.callbacks.get("proxy_on_context_create");
    if (create !== undefined) {
      this.invoke(
        "proxy_on_context_create",
        create,
        context,
        context.id,
        context.parentId,
      );
    }
    context.createdInVm = true;
  }

  /** A new connection context (registered, not yet created in the module). */
  newConnectionContext(
    source: string,
    destination: string,
    connectionId?: bigint,
  ): ContextState {
    const id = this.#nextContextId++;
    const facts: ConnectionFacts = {
      source,
      destination,
      connectionId: connectionId ?? this.#nextConnectionId++,
      custom: new Map(),
    };
    const context = new ContextState(id, this.root.id, facts);
    this.contexts.set(id, context);
    return context;
  }

  /** Throws WasmVmFailedError when the VM failed earlier. */
  checkAlive(): void {
    if (this.failure !== undefined) throw new WasmVmFailedError(this.failure);
  }

  /**
   * Calls a module export for `context` with proxy-wasm-cpp-host's bookkeeping:
   * the context becomes current, the effective context is reset, deferred
   * actions run after the outermost call, and a trap fails the VM and is thrown
   * as a WasmTrapError naming the hook and context.
   */
  invoke(
    hook: string,
    fn: Callback,
    context: ContextState,
    a = 0,
    b = 0,
    c = 0,
  ): number {
    this.checkAlive();
    const savedCurrent = this.#current;
    const savedEffective = this.#effectiveId;
    this.#current = context;
    this.#effectiveId = 0;
    if (this.#depth++ === 0) this.#lastErrorLine = undefined;
    let result: number;
    try {
      result = (fn(a, b, c) ?? 0) as number;
    } catch (error) {
      this.#depth = 0;
      this.#afterCall = [];
      this.#current = this.vmContext;
      this.#effectiveId = 0;
      throw this.#trap(hook, context.id, error);
    }
    this.#current = savedCurrent;
    this.#effectiveId = savedEffective;
    if (--this.#depth === 0 && this.#afterCall.length > 0) {
      const actions = this.#afterCall;
      this.#afterCall = [];
      for (const action of actions) action();
    }
    return result >>> 0;
  }

  #trap(hook: string, contextId: number, error: unknown): WasmTrapError {
    if (error instanceof WasmTrapError) return error;
    let detail = trapDetail(error);
    if (this.#lastErrorLine !== undefined) {
      detail += ` (wasm abort: ${this.#lastErrorLine})`;
    }
    this.failure = new WasmTrapError(hook, contextId, detail);
    return this.failure;
  }

  // HostRuntime

  effective(): ContextState {
    if (this.#effectiveId !== 0) {
      const context = this.contexts.get(this.#effectiveId);
      if (context !== undefined) return context;
    }
    return this.#current;
  }

  current(): ContextState {
    return this.#current;
  }

  setEffective(id: number): boolean {
    if (!this.contexts.has(id)) return false;
    this.#effectiveId = id;
    return true;
  }

  log(context: ContextState, level: number, message: string): void {
    if (level >= 4) this.#lastErrorLine = message;
    if (level < this.logThreshold) return;
    const entry: LogEntry = {
      level: LOG_LEVELS[level],
      message,
      contextId: context.id,
    };
    this.#logs.push(entry);
    // Trim in batches (amortized O(1)); readers get exactly the capacity through `logs`.
    if (this.#logs.length >= 2 * this.#logCapacity + 64) this.#trimLogs();
    context.logs.push(entry);
    if (this.#onLog !== undefined) {
      try {
        this.#onLog(entry);
      } catch {
        // A failing listener must not fail the module.
      }
    }
  }

  setTickPeriod(milliseconds: number): void {
    this.tickPeriodMilliseconds = milliseconds;
  }

  done(context: ContextState): number {
    if (context !== this.root || !this.rootPendingDone) return 1; // NotFound
    this.rootPendingDone = false;
    this.#afterCall.push(() => {
      const onDelete = this.callbacks.get("proxy_on_delete");
      if (onDelete !== undefined) {
        this.invoke("proxy_on_delete", onDelete, this.root, 1);
      }
      this.contexts.delete(1);
    });
    return 0;
  }

  exit(code: number): never {
    const abortLine = this.#lastErrorLine;
    this.log(this.effective(), 4, `wasi proc_exit(${code}): the module exited`);
    this.#lastErrorLine = abortLine;
    throw new ProcExit(code);
  }
}
