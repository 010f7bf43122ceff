/**
 * Compiling the AssemblyScript filter with the AssemblyScript compiler used as a
 * library, and the checks a module must pass before Envoy can run it.
 */
import asc from "assemblyscript/cli/asc";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The project root: filter/ sources and node_modules are found from here. */
const PROJECT_ROOT = fileURLToPath(new URL("../", import.meta.url));

/** The folder the tool runs from (ends in a separator): its filter/ and node_modules. */
export const TOOL_ROOT: string = PROJECT_ROOT;

/** The filter's entry file. */
export const FILTER_ENTRY = `${PROJECT_ROOT}filter/assembly/index.ts`;

/** Where `wasmerang build` writes the tool's own filter unless told otherwise. */
export const FILTER_OUTPUT = `${PROJECT_ROOT}filter/build/wasmerang.wasm`;

/**
 * The filter library (the SDK workarounds) the tool's filter imports and
 * `wasmerang new` copies into a project (ends in a separator).
 */
export const LIBRARY_DIR = `${PROJECT_ROOT}filter/assembly/lib/`;

/** What a compilation produced: the module, or the compiler's diagnostics. */
export interface CompileResult {
  /** The module's bytes; undefined when the compiler reported errors. */
  wasm?: Uint8Array<ArrayBuffer>;
  /** The compiler's own diagnostics (errors and warnings), as it printed them. */
  diagnostics: string;
  /** Why the compiler stopped without diagnostics of its own (a missing entry, a crash). */
  stopped?: string;
}

/**
 * Compiles the filter to a proxy-wasm module, in memory. Release builds are
 * optimized; `debug` keeps names and skips optimization.
 */
export async function compileFilter(
  options: { debug?: boolean; entry?: string } = {},
): Promise<CompileResult> {
  await asc.ready;
  const outputs: Record<string, Uint8Array<ArrayBuffer>> = {};
  const diagnostics = asc.createMemoryStream();
  const entry = resolve(options.entry ?? FILTER_ENTRY);
  try {
    Deno.statSync(entry);
  } catch {
    return { diagnostics: "", stopped: `no such entry file: ${entry}` };
  }
  const args = [
    entry,
    "--baseDir",
    PROJECT_ROOT,
    "--binaryFile",
    "filter.wasm",
    "--runtime",
    "full",
    "--use",
    "abort=abort_proc_exit",
    "--path",
    `${PROJECT_ROOT}node_modules`,
    ...(options.debug ? ["--debug"] : ["--optimize"]),
  ];
  let crashed = "";
  const failed = await new Promise<boolean>((resolve) => {
    try {
      asc.main(args, {
        stdout: asc.createMemoryStream(),
        stderr: diagnostics,
        writeFile: (name: string, contents: Uint8Array) => {
          outputs[name] = new Uint8Array(contents);
        },
      }, (error: Error | null) => {
        resolve(error !== null);
        return 0;
      });
    } catch (error) {
      // The compiler throws, rather than reports, when the SDK's abort handler is missing.
      crashed = `the compiler stopped: ${(error as Error).message}` +
        " (a proxy-wasm filter entry must import @solo-io/proxy-runtime)";
      resolve(true);
    }
  });
  const text = diagnostics.toString()
    .split(/\n(?=\S)/)
    .filter((entry) => !entry.startsWith("INFO"))
    .join("\n").trim();
  const wasm = outputs["filter.wasm"];
  if (crashed) return { diagnostics: text, stopped: crashed };
  return failed || !wasm
    ? { diagnostics: text }
    : { wasm: new Uint8Array(wasm), diagnostics: text };
}

export {
  abiVersion,
  missingExports,
  REQUIRED_EXPORTS,
} from "./module_check.ts";
