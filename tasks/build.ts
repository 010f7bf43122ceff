/** `wasmerang build`: compile filter/ to a proxy-wasm module and describe it. */
import { writeFileAtomically } from "../lib/atomic_write.ts";
import { fileErrorReason, UsageError, UserError } from "../lib/errors.ts";
import { compileFilter, type CompileResult } from "../lib/compiler.ts";
import { step } from "../lib/ui.ts";
import { abiVersion, missingExports } from "../lib/module_check.ts";
import { ROOT_ID } from "../lib/routing.ts";
import { ProxyWasmVm, WasmLoadError } from "../host/mod.ts";
import { writeEmbeddedFilter } from "../lib/filter_embed.ts";

/** A compilation that produced no module; carries what the compiler said. */
class NotCompiled extends Error {
  constructor(readonly result: CompileResult) {
    super("the filter did not compile");
  }
}

/** Options of `wasmerang build`. */
export interface BuildOptions {
  out: string;
  entry?: string;
  debug?: boolean;
  embed?: boolean;
}

/** Compiles, checks and writes the filter, then prints its path, size, sha256, ABI and root id. */
export async function build(options: BuildOptions): Promise<void> {
  if (options.entry !== undefined && !options.entry.endsWith(".ts")) {
    throw new UsageError(
      `--entry ${options.entry}: an AssemblyScript entry file ends in .ts, e.g. filter/assembly/index.ts`,
    );
  }
  const source = options.entry ?? "filter/assembly/index.ts";
  const result = await step(
    `Compiling ${source} (AssemblyScript, ${
      options.debug ? "debug" : "optimized"
    })`,
    async () => {
      const compiled = await compileFilter({
        debug: options.debug,
        entry: options.entry,
      });
      if (!compiled.wasm) throw new NotCompiled(compiled);
      return compiled;
    },
  ).catch((error) => {
    if (!(error instanceof NotCompiled)) throw error;
    return error.result;
  });
  if (!result.wasm) {
    if (result.diagnostics) console.error(result.diagnostics);
    if (result.stopped) {
      throw new UserError(
        `the filter did not compile: ${result.stopped}`,
      );
    }
    const errors = result.diagnostics.match(/^ERROR /gm)?.length ?? 0;
    throw new UserError(
      `the filter did not compile: ${errors} error(s) in ${source} and what it imports, shown above`,
    );
  }
  const module = new WebAssembly.Module(result.wasm);
  const missing = missingExports(module);
  if (missing.length > 0) {
    throw new UserError(
      `refusing to write ${options.out}: the module lacks exports Envoy needs: ${
        missing.join(", ")
      }`,
    );
  }
  const rootId = await startingRootId(result.wasm, options.out);
  await writeAtomically(options.out, result.wasm);
  if (options.embed) await writeEmbeddedFilter(result.wasm);
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", result.wasm),
  );
  const sha256 = Array.from(
    digest,
    (byte) => byte.toString(16).padStart(2, "0"),
  ).join("");
  console.log(`✓ built ${options.out}`);
  console.log(`  size     ${result.wasm.byteLength} bytes`);
  console.log(`  sha256   ${sha256}`);
  console.log(`  abi      proxy-wasm ${abiVersion(module)}`);
  console.log(`  root id  ${rootId}`);
  if (options.embed) {
    console.log("  embedded in the tool (lib/filter_wasm.generated.ts)");
  }
}

/**
 * Starts the module in the host as Envoy would, under the project's root id.
 * A module that cannot even load is refused; one that starts under another
 * root id is written, with a note that its root id is not ours.
 */
async function startingRootId(wasm: Uint8Array, out: string): Promise<string> {
  try {
    const vm = await ProxyWasmVm.load(wasm, { rootId: ROOT_ID });
    vm.close();
    return `${ROOT_ID} (the module starts with it)`;
  } catch (error) {
    if (error instanceof WasmLoadError) {
      throw new UserError(`refusing to write ${out}: ${error.message}`);
    }
    return `not "${ROOT_ID}": the module did not start with it (${
      (error as Error).message
    }); give Envoy the root_id your filter registers`;
  }
}

/** Writes the module atomically; a failure is one line naming the path. */
async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  try {
    await writeFileAtomically(path, bytes);
  } catch (error) {
    throw new UserError(
      `cannot write ${path}: ${
        fileErrorReason(error)
      } (choose an --out in a folder you can write)`,
    );
  }
}
