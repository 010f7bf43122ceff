/**
 * `wasmerang build`: compile a filter to a proxy-wasm module and describe it.
 * Inside a filter project (a folder with wasmerang.json, from `wasmerang new`)
 * it builds that project's filter to the project's output; elsewhere the tool's
 * own filter (filter/) to the tool's filter/build/, wherever it is run from.
 */
import { basename, dirname, join, relative, resolve } from "node:path";
import { writeFileAtomically } from "../lib/atomic_write.ts";
import { fileErrorReason, UsageError, UserError } from "../lib/errors.ts";
import {
  compileFilter,
  type CompileResult,
  FILTER_ENTRY,
  FILTER_OUTPUT,
} from "../lib/compiler.ts";
import { findProject, PROJECT_FILE } from "../lib/filter_project.ts";
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

/**
 * The `--out` default cli.ts gives: read as "the project's (or the tool's)
 * output", not as a path under the current folder.
 */
export const DEFAULT_OUT = "filter/build/wasmerang.wasm";

/** Options of `wasmerang build`. */
export interface BuildOptions {
  /** Where to write the module; default: the project's output, else the tool's filter/build/. */
  out?: string;
  /** An entry file to build instead of the project's (or the tool's filter). */
  entry?: string;
  /** The root id to start the module with; default: the project's, else `wasmerang`. */
  rootId?: string;
  debug?: boolean;
  /** Also refresh the module the tool carries: the tool's own filter only. */
  embed?: boolean;
}

/** Compiles, checks and writes the filter, then prints its path, size, sha256, ABI and root id. */
export async function build(options: BuildOptions): Promise<void> {
  if (options.entry !== undefined && !options.entry.endsWith(".ts")) {
    throw new UsageError(
      `--entry ${options.entry}: an AssemblyScript entry file ends in .ts, e.g. filter/assembly/index.ts`,
    );
  }
  if (options.embed && options.entry !== undefined) {
    throw new UsageError(
      "--embed is for the tool's own filter (filter/assembly/index.ts) only: drop --entry, or drop --embed and use the module by --wasm",
    );
  }
  const project = options.entry === undefined ? await findProject() : undefined;
  if (options.embed && project !== undefined) {
    throw new UsageError(
      `--embed is for the tool's own filter only, not the project in ${project.dir} (its module goes to ${
        shown(project.output)
      }; use it by --wasm)`,
    );
  }
  const entry = options.entry ?? project?.entry ?? FILTER_ENTRY;
  const out = options.out === undefined || options.out === DEFAULT_OUT
    ? project?.output ?? defaultOutput(entry)
    : options.out;
  const rootIdWanted = options.rootId ?? project?.rootId ?? ROOT_ID;
  const source = options.entry ?? shown(entry);
  if (project !== undefined) {
    console.log(`project  ${shown(project.dir) || "."} (${PROJECT_FILE})`);
  }
  const result = await step(
    `Compiling ${source} (AssemblyScript, ${
      options.debug ? "debug" : "optimized"
    })`,
    async () => {
      const compiled = await compileFilter({
        debug: options.debug,
        entry,
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
      `refusing to write ${out}: the module lacks exports Envoy needs: ${
        missing.join(", ")
      }`,
    );
  }
  const rootId = await startingRootId(result.wasm, out, rootIdWanted);
  await writeAtomically(out, result.wasm);
  if (options.embed) await writeEmbeddedFilter(result.wasm);
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", result.wasm),
  );
  const sha256 = Array.from(
    digest,
    (byte) => byte.toString(16).padStart(2, "0"),
  ).join("");
  console.log(`✓ built ${shown(out)}`);
  console.log(`  size     ${result.wasm.byteLength} bytes`);
  console.log(`  sha256   ${sha256}`);
  console.log(`  abi      proxy-wasm ${abiVersion(module)}`);
  console.log(`  root id  ${rootId}`);
  if (options.embed) {
    console.log("  embedded in the tool (lib/filter_wasm.generated.ts)");
  }
}

/** The tool's filter goes to filter/build/; another entry file's module beside it (index.ts: index.wasm). */
function defaultOutput(entry: string): string {
  if (resolve(entry) === FILTER_ENTRY) return FILTER_OUTPUT;
  return join(dirname(entry), `${basename(entry, ".ts")}.wasm`);
}

/** `path` relative to the current folder when it is inside it, else as it is. */
function shown(path: string): string {
  const near = relative(Deno.cwd(), path);
  return near.startsWith("..") ? path : near;
}

/**
 * Starts the module in the host as Envoy would, under `rootIdWanted`.
 * A module that cannot even load is refused; one that starts under another
 * root id is written, with a note that its root id is not the one expected.
 */
async function startingRootId(
  wasm: Uint8Array,
  out: string,
  rootIdWanted: string,
): Promise<string> {
  try {
    const vm = await ProxyWasmVm.load(wasm, { rootId: rootIdWanted });
    vm.close();
    return `${rootIdWanted} (the module starts with it)`;
  } catch (error) {
    if (error instanceof WasmLoadError) {
      throw new UserError(`refusing to write ${out}: ${error.message}`);
    }
    return `not "${rootIdWanted}": the module did not start with it (${
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
