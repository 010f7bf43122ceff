/**
 * The errors the host throws. Each message is one line that says what failed
 * and where, so the CLI can print it as it is.
 *
 * @module
 */

/**
 * The module could not be loaded: corrupt bytes, a missing or unknown ABI
 * version marker, an import the host does not offer (named as `env.proxy_foo`),
 * an import whose type differs from the host's, a missing `malloc` or memory
 * export, or a start section that calls into the host.
 *
 * @example
 * ```ts
 * import { ProxyWasmVm, WasmLoadError } from "./mod.ts";
 * try {
 *   await ProxyWasmVm.load(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]), { rootId: "x" });
 * } catch (error) {
 *   console.log(error instanceof WasmLoadError); // true: no ABI version marker
 * }
 * ```
 */
export class WasmLoadError extends Error {
  /** Creates the error from one line saying what is wrong with the module. */
  constructor(message: string) {
    super(message);
    this.name = "WasmLoadError";
  }
}

/**
 * The module trapped (an `unreachable`, an out-of-bounds access, `proc_exit`, a
 * stack overflow) inside a callback. The message names the hook and the
 * context, e.g. `proxy_on_new_connection trapped in context 2: unreachable
 * (wasm abort: ...)`. The VM is failed from then on, as in Envoy.
 *
 * @example
 * ```ts
 * import { WasmTrapError } from "./errors.ts";
 * const error = new WasmTrapError("proxy_on_new_connection", 2, "unreachable");
 * error.message; // "proxy_on_new_connection trapped in context 2: unreachable"
 * ```
 */
export class WasmTrapError extends Error {
  /** The callback (export) that was running, e.g. `proxy_on_new_connection`. */
  readonly hook: string;
  /** The context id the callback ran for (0 is the VM context, 1 the root). */
  readonly contextId: number;
  /** What trapped, without the hook and context. */
  readonly detail: string;

  /**
   * Creates the error; the message is `<hook> trapped in context <id>: <detail>`.
   *
   * @param hook the export that was running
   * @param contextId the context it ran for
   * @param detail what trapped (`unreachable`, `proc_exit(255)`, …)
   */
  constructor(hook: string, contextId: number, detail: string) {
    super(`${hook} trapped in context ${contextId}: ${detail}`);
    this.name = "WasmTrapError";
    this.hook = hook;
    this.contextId = contextId;
    this.detail = detail;
  }
}

/**
 * The plugin refused its configuration: `proxy_on_configure` (or
 * `proxy_on_vm_start` for the VM configuration) returned false. The message
 * carries the filter's own error log lines.
 *
 * @example
 * ```ts
 * import { ConfigurationRejectedError } from "./errors.ts";
 * new ConfigurationRejectedError("invalid configuration: not valid JSON").name;
 * // "ConfigurationRejectedError"
 * ```
 */
export class ConfigurationRejectedError extends Error {
  /** The filter's own error (or, failing those, warning) log lines, in order. */
  readonly filterMessages: readonly string[];

  /**
   * Creates the error.
   *
   * @param message one line: what was rejected and why
   * @param filterMessages the filter's own error lines
   */
  constructor(message: string, filterMessages: readonly string[] = []) {
    super(message);
    this.name = "ConfigurationRejectedError";
    this.filterMessages = filterMessages;
  }
}

/**
 * A call on a VM that failed earlier (after a trap). Like Envoy, the host does
 * not call into a failed VM again; create a new VM with `ProxyWasmVm.load`.
 * The original trap is the `cause`.
 *
 * @example
 * ```ts
 * import { WasmTrapError, WasmVmFailedError } from "./errors.ts";
 * const trap = new WasmTrapError("proxy_on_new_connection", 2, "unreachable");
 * new WasmVmFailedError(trap).message.startsWith("the Wasm VM has failed"); // true
 * ```
 */
export class WasmVmFailedError extends Error {
  /** Creates the error from the trap that failed the VM. */
  constructor(cause: WasmTrapError) {
    super(`the Wasm VM has failed (${cause.message}); load a new VM`, {
      cause,
    });
    this.name = "WasmVmFailedError";
  }
}
