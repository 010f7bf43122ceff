/**
 * What can end a call into the module besides a wasm trap, and how each is
 * worded in the `WasmTrapError` that fails the VM.
 *
 * @module
 */

/** A host call made from the start section: instantiation must fail. */
export class StartSectionCall extends Error {}

/** A host call not allowed while the VM starts (Envoy traps "restricted_callback"). */
export class RestrictedCall extends Error {}

/** `proc_exit` was called. */
export class ProcExit extends Error {
  /** The exit code the module gave. */
  readonly code: number;

  /** `proc_exit(code)`. */
  constructor(code: number) {
    super(`proc_exit(${code})`);
    this.code = code;
  }
}

/** What trapped, in one line, for an error thrown out of a module call. */
export function trapDetail(error: unknown): string {
  if (error instanceof ProcExit) return error.message;
  if (error instanceof RestrictedCall) {
    return `restricted_callback: ${error.message} may not be called while the VM starts`;
  }
  if (error instanceof WebAssembly.RuntimeError) return error.message;
  if (error instanceof RangeError && /call stack/i.test(error.message)) {
    return `call stack exhausted (${error.message})`;
  }
  return `host error: ${
    error instanceof Error ? error.message : String(error)
  }`;
}
