/**
 * `wasmerang build`: compile a filter to a proxy-wasm module and describe it.
 * Inside a filter project (a folder with wasmerang.json, from `wasmerang new`)
 * it builds that project's filter to the project's output; elsewhere the tool's
 * own filter (filter/) to the tool's filter/build/, wherever it is run from.
 */
import { basename, dirname, join, resolve } from "node:path";
import { UsageError } from "../lib/errors.ts";
import { FILTER_ENTRY, FILTER_OUTPUT } from "../lib/compiler.ts";
import { buildModule, shown } from "../lib/filter_build.ts";
import { findProject, PROJECT_FILE } from "../lib/filter_project.ts";
import { abiVersion } from "../lib/module_check.ts";
import { ROOT_ID } from "../lib/routing.ts";
import { writeEmbeddedFilter } from "../lib/filter_embed.ts";

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
  const givenOut = options.out === undefined || options.out === DEFAULT_OUT
    ? undefined
    : options.out;
  const out = givenOut ?? project?.output ?? defaultOutput(entry);
  const rootIdWanted = options.rootId ?? project?.rootId ?? ROOT_ID;
  const where = project === undefined ? undefined : shown(project.dir) || ".";
  if (where !== undefined) console.log(`project  ${where} (${PROJECT_FILE})`);
  const source = options.entry ?? shown(entry);
  const built = await buildModule({
    entry,
    output: out,
    rootId: rootIdWanted,
    debug: options.debug,
    title: `Compiling ${source} (AssemblyScript, ${
      options.debug ? "debug" : "optimized"
    })`,
    what: where === undefined ? "the filter" : `the filter project ${where}`,
    source,
    writeHint: project !== undefined && givenOut === undefined
      ? `the "output" of ${join(project.dir, PROJECT_FILE)}; or give --out`
      : "choose an --out in a folder you can write",
  });
  if (options.embed) await writeEmbeddedFilter(built.wasm);
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", built.wasm),
  );
  const sha256 = Array.from(
    digest,
    (byte) => byte.toString(16).padStart(2, "0"),
  ).join("");
  console.log(`✓ built ${shown(out)}`);
  console.log(`  size     ${built.wasm.byteLength} bytes`);
  console.log(`  sha256   ${sha256}`);
  console.log(`  abi      proxy-wasm ${abiVersion(built.module)}`);
  console.log(`  root id  ${rootIdLine(rootIdWanted, built.startError)}`);
  if (options.embed) {
    console.log("  embedded in the tool (lib/filter_wasm.generated.ts)");
  }
}

/**
 * The root id line: the one the module started with, or why it did not start
 * under it (the module is written all the same: the proxy must name the root
 * id the filter registers).
 */
function rootIdLine(rootId: string, startError: Error | undefined): string {
  return startError === undefined
    ? `${rootId} (the module starts with it)`
    : `not "${rootId}": the module did not start with it (${startError.message}); give Envoy the root_id your filter registers`;
}

/** The tool's filter goes to filter/build/; another entry file's module beside it (index.ts: index.wasm). */
function defaultOutput(entry: string): string {
  if (resolve(entry) === FILTER_ENTRY) return FILTER_OUTPUT;
  return join(dirname(entry), `${basename(entry, ".ts")}.wasm`);
}
