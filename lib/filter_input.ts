/**
 * Which module a command runs: `--wasm FILE` (a built module), `--filter DIR`
 * (a filter project from `wasmerang new`, built when its sources changed), or
 * neither (the embedded filter); and the root id it starts under: `--root-id`,
 * else the project's own (`wasmerang.json`'s `rootId`, also for a `--wasm`
 * that is a project's output), else `wasmerang`.
 *
 * Every mode that runs a filter declares `FILTER_OPTION` (and
 * `ROOT_ID_OPTION`, both from lib/filter_flags.ts, re-exported here) and turns its flags into a module path and root id
 * with {@link moduleFromFlags} before it reads the module:
 *
 * @example
 * ```ts
 * import { moduleFromFlags } from "./filter_input.ts";
 * const chosen = await moduleFromFlags({ filter: "my-filter" });
 * chosen.wasm; // ".../my-filter/build/filter.wasm", built if it was stale
 * chosen.rootId; // the project's root id
 * ```
 *
 * The rule for "built when needed" ({@link staleReason}): the project's
 * module is rebuilt when it is missing, or when `wasmerang.json` or any `.ts`
 * file under the entry file's folder (for a project from `new`: `assembly/`,
 * its `lib/` included) was modified after the module was written.
 *
 * @module
 */
import { dirname, join, relative, resolve } from "node:path";
import { fileErrorReason, UsageError, UserError } from "./errors.ts";
import {
  type FilterProject,
  findProject,
  PROJECT_FILE,
} from "./filter_project.ts";

export {
  FILTER_OPTION,
  ROOT_ID_DEFAULT,
  ROOT_ID_OPTION,
} from "./filter_flags.ts";

/** The flags that choose the module. */
export interface FilterInputFlags {
  /** A built module. */
  wasm?: string;
  /** A filter project folder (or a folder inside one). */
  filter?: string;
  /** The root id; default the project's, else the caller's default. */
  rootId?: string;
}

/** The module the flags chose. */
export interface ChosenModule {
  /** The module's path (absolute for `--filter`); undefined for the embedded filter. */
  wasm?: string;
  /**
   * `--root-id`, else the project's (of `--filter`, or of the project whose
   * output `--wasm` is); undefined when neither says (the caller's default:
   * `wasmerang`, or what a running example recorded).
   */
  rootId?: string;
  /** The project of `--filter`, or of the project whose output `--wasm` is. */
  project?: FilterProject;
  /** True when the project's module was built just now. */
  built?: boolean;
  /**
   * With `write: false` and a stale project: the module compiled in memory
   * (the file at `wasm` is missing or older than the sources).
   */
  compiled?: Uint8Array<ArrayBuffer>;
}

/** How {@link moduleFromFlags} treats a stale project. */
export interface ChooseOptions {
  /**
   * false: compile a stale project in memory and leave its output as it is
   * (for dry runs, which write nothing); default true.
   */
  write?: boolean;
}

/** `--filter` with `--wasm` is a usage error (exit 2): each names the module. */
export function refuseBothModules(flags: FilterInputFlags): void {
  if (flags.filter !== undefined && flags.wasm !== undefined) {
    throw new UsageError(
      "--filter and --wasm both name the module: give one (--filter DIR builds and runs DIR's filter project, --wasm FILE runs a built module)",
    );
  }
}

/**
 * The module and root id `flags` choose; `--filter` builds the project's
 * module first when it is stale (progress on stderr). `--filter` with
 * `--wasm` is a usage error (exit 2), and so is a `--filter` folder that is
 * not in a filter project.
 */
export async function moduleFromFlags(
  flags: FilterInputFlags,
  options: ChooseOptions = {},
): Promise<ChosenModule> {
  refuseBothModules(flags);
  if (flags.filter !== undefined) {
    const project = await projectOf(flags.filter);
    const chosen = {
      wasm: project.output,
      rootId: flags.rootId ?? project.rootId,
      project,
    };
    const reason = await staleReason(project);
    if (reason === undefined) return { ...chosen, built: false };
    if (options.write === false) {
      return {
        ...chosen,
        compiled: await buildProject(project, reason, { write: false }),
      };
    }
    await buildProject(project, reason);
    return { ...chosen, built: true };
  }
  if (flags.wasm !== undefined) {
    const project = await projectWithOutput(flags.wasm);
    const rootId = flags.rootId ?? project?.rootId;
    return {
      wasm: flags.wasm,
      ...(rootId === undefined ? {} : { rootId }),
      ...(project === undefined ? {} : { project }),
    };
  }
  return flags.rootId === undefined ? {} : { rootId: flags.rootId };
}

/**
 * `flags` with `--filter` resolved: `wasm` the project's module (built when
 * stale), `rootId` as {@link moduleFromFlags} chose it, `filter` gone; every
 * other flag as it was. For modes whose code reads `wasm` and `rootId`.
 */
export async function withChosenModule<Flags extends FilterInputFlags>(
  flags: Flags,
  options: ChooseOptions = {},
): Promise<Omit<Flags, "filter"> & { compiled?: Uint8Array<ArrayBuffer> }> {
  const chosen = await moduleFromFlags(flags, options);
  const resolved: Flags & { compiled?: Uint8Array<ArrayBuffer> } = {
    ...flags,
  };
  delete resolved.filter;
  delete resolved.wasm;
  delete resolved.rootId;
  if (chosen.wasm !== undefined) resolved.wasm = chosen.wasm;
  if (chosen.rootId !== undefined) resolved.rootId = chosen.rootId;
  if (chosen.compiled !== undefined) resolved.compiled = chosen.compiled;
  return resolved;
}

/** The project `dir` is (or is inside); a folder outside any project is a usage error. */
async function projectOf(dir: string): Promise<FilterProject> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "no such folder"
      : fileErrorReason(error);
    throw new UsageError(
      `--filter ${dir}: ${reason} (give a filter project folder; 'wasmerang new ${dir}' makes one)`,
    );
  }
  if (!info.isDirectory) {
    throw new UsageError(
      `--filter ${dir}: not a folder (give a filter project folder; for a built module use --wasm ${dir})`,
    );
  }
  const project = await findProject(dir);
  if (project === undefined) {
    throw new UsageError(
      `--filter ${dir}: not a filter project (no ${PROJECT_FILE} in it or above it; 'wasmerang new DIR' makes one, --wasm FILE runs a built module)`,
    );
  }
  return project;
}

/**
 * The project whose output `wasm` is (the nearest project above it, when its
 * `output` is this file), else undefined. An unreadable or invalid marker
 * there is ignored: `--wasm` names the module, the project only its root id.
 */
async function projectWithOutput(
  wasm: string,
): Promise<FilterProject | undefined> {
  const file = resolve(wasm);
  try {
    const project = await findProject(dirname(file));
    return project?.output === file ? project : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why `project`'s module must be built, or undefined when it is up to date:
 * missing, or older than `wasmerang.json` or a `.ts` file under the entry's
 * folder.
 */
export async function staleReason(
  project: FilterProject,
): Promise<string | undefined> {
  const output = shown(project.output);
  let built: number;
  try {
    built = (await Deno.stat(project.output)).mtime?.getTime() ?? 0;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return `${output} is missing`;
    throw new UserError(
      `cannot read ${project.output}: ${fileErrorReason(error)}`,
    );
  }
  const newer = async (file: string) => {
    try {
      return ((await Deno.stat(file)).mtime?.getTime() ?? Infinity) > built;
    } catch {
      return false; // gone since the folder was listed
    }
  };
  const marker = join(project.dir, PROJECT_FILE);
  if (await newer(marker)) {
    return `${shown(marker)} changed since ${output} was built`;
  }
  for await (const file of sourceFiles(dirname(project.entry))) {
    if (file === project.output) continue;
    if (await newer(file)) {
      return `${shown(file)} changed since ${output} was built`;
    }
  }
  return undefined;
}

/** Every `.ts` file under `dir`, skipping hidden folders and node_modules. */
async function* sourceFiles(dir: string): AsyncGenerator<string> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (error) {
    throw new UserError(`cannot list ${dir}: ${fileErrorReason(error)}`);
  }
  for (const entry of entries) {
    const file = join(dir, entry.name);
    if (entry.isDirectory) {
      if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
      yield* sourceFiles(file);
    } else if (entry.isFile && entry.name.endsWith(".ts")) yield file;
  }
}

/**
 * Builds `project`'s filter (optimized, as `wasmerang build` does, and by the
 * same path: lib/filter_build.ts): compiles it, checks the exports Envoy needs
 * and that the host loads it, and writes it to the project's output. Progress
 * and the compiler's diagnostics go to stderr; a failure is one line. With
 * `write: false` the module is only returned.
 */
export async function buildProject(
  project: FilterProject,
  reason = "asked to",
  options: ChooseOptions = {},
): Promise<Uint8Array<ArrayBuffer>> {
  // The compiler is loaded only when a build is needed.
  const { buildModule } = await import("./filter_build.ts");
  const where = shown(project.dir) || ".";
  const built = await buildModule({
    entry: project.entry,
    output: project.output,
    rootId: project.rootId,
    write: options.write,
    title: `${
      options.write === false
        ? "Compiling (in memory, for the dry run)"
        : "Building"
    } the filter project ${where} (${reason})`,
    what: `the filter project ${where}`,
    writeHint: `the "output" of ${join(project.dir, PROJECT_FILE)}`,
  });
  if (options.write !== false) {
    console.error(
      `  wrote ${shown(project.output)} (${built.wasm.byteLength} bytes)`,
    );
  }
  return built.wasm;
}

/** `file` relative to the current folder when it is inside it, else as it is. */
function shown(file: string): string {
  const near = relative(Deno.cwd(), file);
  return near.startsWith("..") ? file : near;
}
