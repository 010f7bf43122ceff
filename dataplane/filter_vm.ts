/**
 * The proxy's filter VM, kept the way Envoy keeps it: loaded (and its
 * configuration accepted) before the proxy listens, ticked on the period the
 * filter asks for, and replaced by a fresh one after a trap fails it.
 *
 * @module
 */
import { type LogEntry, type LogLevel, ProxyWasmVm } from "../host/mod.ts";

/** What the filter VM is started with. */
export interface FilterVmOptions {
  /** The filter module. */
  wasm: Uint8Array;
  /** The plugin's root id. */
  rootId: string;
  /** The plugin configuration. */
  configuration: string;
  /** Called with each log line of the filter (and the proxy's notes about the VM). */
  onFilterLog?: (entry: LogEntry) => void;
  /**
   * The log level the filter is told (`proxy_get_log_level`) and below which
   * its lines are dropped; default `"info"`, as Envoy's. The Wasmerang filter
   * writes its per-connection decision line at `"debug"`.
   */
  logLevel?: LogLevel;
}

/** Passes one of the proxy's own notes on with the filter's log lines, marked `[proxy]`. */
export function noteProxyEvent(
  onFilterLog: ((entry: LogEntry) => void) | undefined,
  level: "info" | "warn" | "error",
  message: string,
): void {
  onFilterLog?.({ level, message: `[proxy] ${message}`, contextId: 0 });
}

/** The current filter VM, replaced after a failure. */
export class FilterVm {
  /** How many VMs were loaded (1 + one per failure). */
  loads = 0;
  #options: FilterVmOptions;
  #vm: Promise<ProxyWasmVm> | undefined;
  #loaded: ProxyWasmVm | undefined;
  #ticker: ReturnType<typeof setInterval> | undefined;

  constructor(options: FilterVmOptions) {
    this.#options = options;
  }

  /** Loads the first VM; throws what the load throws (a rejected configuration, a bad module). */
  async start(): Promise<void> {
    const vm = await this.#load();
    this.#vm = Promise.resolve(vm);
  }

  async #load(): Promise<ProxyWasmVm> {
    const options = this.#options;
    const vm = await ProxyWasmVm.load(options.wasm, {
      rootId: options.rootId,
      configuration: options.configuration,
      logCapacity: 1000,
      logLevel: options.logLevel,
      onLog: options.onFilterLog,
    });
    this.loads++;
    this.#loaded = vm;
    this.stopTicks();
    if (vm.tickPeriodMilliseconds > 0) {
      this.#ticker = setInterval(() => {
        try {
          vm.tick();
        } catch {
          // A trap in a tick fails the VM; the next connection loads a new one.
        }
      }, vm.tickPeriodMilliseconds);
    }
    return vm;
  }

  /** Stops calling `proxy_on_tick`. */
  stopTicks(): void {
    if (this.#ticker !== undefined) clearInterval(this.#ticker);
    this.#ticker = undefined;
  }

  /** The current VM, or a fresh one when the current one failed. */
  current(): Promise<ProxyWasmVm> {
    const current = this.#vm!;
    return current.then((vm) => {
      if (vm.failure === undefined || this.#vm !== current) return this.#vm!;
      noteProxyEvent(
        this.#options.onFilterLog,
        "warn",
        `the filter's VM failed (${vm.failure.message}); loading a new one`,
      );
      this.#vm = this.#load();
      return this.#vm;
    });
  }

  /** Size in bytes of the latest VM's linear memory (0 before one loaded). */
  memoryBytes(): number {
    return this.#loaded?.memoryBytes() ?? 0;
  }

  /** Stops the ticks and closes the current VM. */
  async close(): Promise<void> {
    this.stopTicks();
    try {
      (await this.#vm)?.close();
    } catch {
      // A VM that fails while closing has nothing more to say.
    } finally {
      this.stopTicks();
    }
  }
}
