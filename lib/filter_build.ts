/**
 * Building a filter module: the one path `wasmerang build` (a project, the
 * tool's own filter, an `--entry`) and `--filter DIR` (`buildProject` in
 * lib/filter_input.ts) take. The entry is
 * compiled, the module checked for the exports Envoy needs and started in the
 * host under its root id, and only then written (atomically). Every failure
 * is one line; the compiler's diagnostics go to stderr first.
 *
 * This module loads the compiler: import it only when a build is needed.
 *
 * @module
 */
import { relative } from "node:path";
import { writeFileAtomically } from "./atomic_write.ts";
import { compileFilter } from "./compiler.ts";
import { fileErrorReason, UserError } from "./errors.ts";
import { missingExports } from "./module_check.ts";
import { step } from "./ui.ts";
import { ProxyWasmVm, WasmLoadError } from "../host/mod.ts";

/** What to build and how a build names it in its progress and errors. */
export interface BuildRequest {
  /** The AssemblyScript entry file. */
  entry: string;
  /** Where the module goes. */
  output: string;
  /** The root id the module is started with before it is written. */
  rootId: string;
  /** Unoptimized, with debug info. */
  debug?: boolean;
  /** false: check the module and return it, writing nothing (dry runs); default true. */
  write?: boolean;
  /** The progress line of the compile step. */
  title: string;
  /** What did not compile: "the filter", "the filter project p". */
  what: string;
  /** How the entry is named in "N error(s) in …"; default its path as {@link shown}. */
  source?: string;
  /** What to do when `output` cannot be written, e.g. "choose an --out in a folder you can write". */
  writeHint: string;
}

/** A module that compiled, has the exports Envoy needs and loads in the host. */
export interface BuiltModule {
  /** The module's bytes (written to the output unless `write: false`). */
  wasm: Uint8Array<ArrayBuffer>;
  /** The compiled module. */
  module: WebAssembly.Module;
  /**
   * Why the module did not start under the root id (a trap, a rejected
   * configuration), or undefined when it started. A module that does not
   * start is still written: only its root id may be another.
   */
  startError?: Error;
}

/**
 * Compiles `request.entry`, refuses a module that lacks an export Envoy needs
 * or that the host cannot load, and writes it to `request.output` (unless
 * `write: false`).
 */
export async function buildModule(request: BuildRequest): Promise<BuiltModule> {
  const write = request.write !== false;
  const source = request.source ?? shown(request.entry);
  const refuse = (why: string): never => {
    throw new UserError(
      write
        ? `refusing to write ${shown(request.output)}: ${why}`
        : `refusing ${request.what} (compiled in memory, nothing written): ${why}`,
    );
  };
  const wasm = await step(request.title, async () => {
    const compiled = await compileFilter({
      debug: request.debug,
      entry: request.entry,
    });
    if (compiled.wasm !== undefined) return compiled.wasm;
    if (compiled.diagnostics) console.error(compiled.diagnostics);
    const errors = compiled.diagnostics.match(/^ERROR /gm)?.length ?? 0;
    throw new UserError(
      `${request.what} did not compile: ${
        compiled.stopped ??
          `${errors} error(s) in ${source} and what it imports, shown above`
      }`,
    );
  });
  const module = new WebAssembly.Module(wasm);
  const missing = missingExports(module);
  if (missing.length > 0) {
    refuse(
      `the module lacks exports Envoy needs: ${
        missing.join(", ")
      } (its entry must export them; see what 'wasmerang new' writes)`,
    );
  }
  let startError: Error | undefined;
  try {
    const vm = await ProxyWasmVm.load(module, { rootId: request.rootId });
    vm.close();
  } catch (error) {
    if (error instanceof WasmLoadError) refuse(error.message);
    if (!(error instanceof Error)) throw error;
    startError = error;
  }
  if (write) {
    try {
      await writeFileAtomically(request.output, wasm);
    } catch (error) {
      throw new UserError(
        `cannot write ${request.output}: ${
          fileErrorReason(error)
        } (${request.writeHint})`,
      );
    }
  }
  return { wasm, module, ...(startError ? { startError } : {}) };
}

/** `path` relative to the current folder when it is inside it, else as it is. */
export function shown(path: string): string {
  const near = relative(Deno.cwd(), path);
  return near.startsWith("..") ? path : near;
}
