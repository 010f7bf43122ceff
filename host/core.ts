/**
 * The engine under `ProxyWasmVm` and `TcpConnection`: loading and linking a
 * module, the contexts, calls into the module with Envoy's bookkeeping
 * (current and effective context, deferred actions), traps, logs and metrics.
 *
 * @module
 */
import { ABI_MARKERS, type AbiVersion, LOG_LEVELS } from "./abi.ts";
import { ContextState, type LogEntry } from "./context.ts";
import {
  ConfigurationRejectedError,
  WasmLoadError,
  WasmTrapError,
  WasmVmFailedError,
} from "./errors.ts";
import { proxyImports } from "./imports.ts";
import { LinearMemory, utf8 } from "./memory.ts";
import { MetricRegistry } from "./metrics.ts";
import type { ConnectionFacts, PluginFacts } from "./properties.ts";
import type { HostImport, HostRuntime } from "./runtime.ts";
import { SharedData, SharedQueues } from "./shared.ts";
import { START_ALLOWED, wasiImports } from "./wasi.ts";
import { functionImports } from "./wasm_binary.ts";
import type { VmOptions } from "./vm.ts";

/** Options of a VM: the public `VmOptions` of vm.ts. */
export type CoreOptions = VmOptions;

/** A module export called by the host. */
export type Callback = (...args: number[]) => number | undefined;

/** A host call made from the start section: instantiation must fail. */
class StartSectionCall extends Error {}
/** A host call not allowed while the VM starts (Envoy traps "restricted_callback"). */
class RestrictedCall extends Error {}
/** `proc_exit` was called. */
class ProcExit extends Error {
  constructor(readonly code: number) {
    super(`proc_exit(${code})`);
  }
}

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

  private constructor(abiVersion: AbiVersion, options: CoreOptions) {
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
    options: CoreOptions,
  ): Promise<VmCore> {
    if (typeof options?.rootId !== "string") {
      throw new WasmLoadError(
        "missing rootId: pass the plugin's root_id in the VM options",
      );
    }
    const module = await compile(wasm);
    const abiVersion = abiVersionOf(module);
    const core = new VmCore(abiVersion, options);
    const imports = core.#link(
      module,
      wasm instanceof Uint8Array ? wasm : undefined,
    );
    const exported = new Map(
      WebAssembly.Module.exports(module).map((e) => [e.name, e.kind]),
    );
    const mallocName = exported.get("malloc") === "function"
      ? "malloc"
      : exported.get("proxy_on_memory_allocate") === "function"
      ? "proxy_on_memory_allocate"
      : undefined;
    if (mallocName === undefined) {
      throw new WasmLoadError("Wasm module is missing malloc function.");
    }
    if (exported.get("memory") !== "memory") {
      throw new WasmLoadError(
        'Wasm module is missing its memory export "memory".',
      );
    }
    const instance = await core.#instantiate(module, imports);
    const exports = instance.exports as Record<string, unknown>;
    const malloc = exports[mallocName] as (size: number) => number;
    core.#memory = new LinearMemory(
      exports.memory as WebAssembly.Memory,
      malloc,
    );
    for (const [name, kind] of exported) {
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

  #link(
    module: WebAssembly.Module,
    bytes: Uint8Array | undefined,
  ): WebAssembly.Imports {
    const offered = new Map<string, HostImport>();
    for (const hostImport of [...proxyImports(this), ...wasiImports(this)]) {
      offered.set(`${hostImport.module}.${hostImport.name}`, hostImport);
    }
    let declared = new Map<string, string>();
    if (bytes !== undefined) {
      try {
        declared = new Map(
          functionImports(bytes).map((
            i,
          ) => [`${i.module}.${i.name}`, i.signature]),
        );
      } catch {
        // The compiler accepted the bytes; leave signatures unchecked.
      }
    }
    const missing: string[] = [];
    const importObject: Record<
      string,
      Record<string, WebAssembly.ImportValue>
    > = {};
    for (
      const { module: moduleName, name, kind } of WebAssembly.Module.imports(
        module,
      )
    ) {
      const key = `${moduleName}.${name}`;
      const hostImport = kind === "function" ? offered.get(key) : undefined;
      if (hostImport === undefined) {
        missing.push(kind === "function" ? key : `${key} (a ${kind})`);
        continue;
      }
      const wanted = declared.get(key);
      if (wanted !== undefined && wanted !== hostImport.signature) {
        throw new WasmLoadError(
          `Failed to load Wasm module due to an import type mismatch for ${key}: ` +
            `the module declares ${wanted}, the host provides ${hostImport.signature}`,
        );
      }
      (importObject[moduleName] ??= {})[name] = this.#gate(key, hostImport.fn);
    }
    if (missing.length > 0) {
      throw new WasmLoadError(
        `Failed to load Wasm module due to a missing import: ${
          missing.join(", ")
        }`,
      );
    }
    return importObject;
  }

  /** Wraps a host function so restricted phases can refuse it. */
  #gate(
    key: string,
    fn: HostImport["fn"],
  ): (...args: unknown[]) => number | void {
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
      if (error instanceof StartSectionCall) {
        throw new WasmLoadError(
          `Failed to instantiate the Wasm module: its start function called the host import ` +
            `${error.message}, which is not available before the VM starts`,
        );
      }
      const message = error instanceof Error ? error.message : String(error);
      const trapped = error instanceof WebAssembly.RuntimeError;
      throw new WasmLoadError(
        `Failed to instantiate the Wasm module: ${
          trapped ? "its start function trapped: " : ""
        }${message}`,
      );
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

  #configure(): void {
    const root = this.root;
    root.pluginConfigurationVisible = true;
    try {
      this.createInVm(root);
      const vmStart = this.callbacks.get("proxy_on_vm_start");
      root.pluginConfigurationVisible = false;
      if (vmStart !== undefined) {
        const started = this.invoke(
          "proxy_on_vm_start",
          vmStart,
          root,
          1,
          this.vmConfiguration.length,
        );
        if (started === 0) {
          throw this.#rejected("proxy_on_vm_start", "VM configuration");
        }
      }
      const configure = this.callbacks.get("proxy_on_configure");
      root.pluginConfigurationVisible = true;
      if (configure !== undefined) {
        const ok = this.invoke(
          "proxy_on_configure",
          configure,
          root,
          1,
          this.pluginConfiguration.length,
        );
        if (ok === 0) {
          throw this.#rejected("proxy_on_configure", "configuration");
        }
      }
    } finally {
      root.pluginConfigurationVisible = false;
    }
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
    let detail: string;
    if (error instanceof ProcExit) detail = error.message;
    else if (error instanceof RestrictedCall) {
      detail =
        `restricted_callback: ${error.message} may not be called while the VM starts`;
    } else if (error instanceof WebAssembly.RuntimeError) {
      detail = error.message;
    } else if (
      error instanceof RangeError && /call stack/i.test(error.message)
    ) {
      detail = `call stack exhausted (${error.message})`;
    } else {detail = `host error: ${
        error instanceof Error ? error.message : String(error)
      }`;}
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

async function compile(
  wasm: Uint8Array | WebAssembly.Module,
): Promise<WebAssembly.Module> {
  if (wasm instanceof WebAssembly.Module) return wasm;
  if (!(wasm instanceof Uint8Array)) {
    throw new WasmLoadError(
      "expected the module's bytes (Uint8Array) or a WebAssembly.Module",
    );
  }
  try {
    return await WebAssembly.compile(wasm as Uint8Array<ArrayBuffer>);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new WasmLoadError(
      `Failed to parse corrupted Wasm module: ${message}`,
    );
  }
}

function abiVersionOf(module: WebAssembly.Module): AbiVersion {
  const markers = WebAssembly.Module.exports(module)
    .filter((e) =>
      e.kind === "function" && e.name.startsWith("proxy_abi_version_")
    )
    .map((e) => e.name);
  for (const marker of markers) {
    if (Object.hasOwn(ABI_MARKERS, marker)) {
      return ABI_MARKERS[marker as keyof typeof ABI_MARKERS];
    }
  }
  const seen = markers.length > 0
    ? ` (the module exports ${markers.join(", ")})`
    : "";
  throw new WasmLoadError(`Missing or unknown Proxy-Wasm ABI version${seen}`);
}
