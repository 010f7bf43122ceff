/**
 * A filter project: a folder with a `wasmerang.json` naming its entry file, its
 * root id and where its module goes (what `wasmerang new` writes). `wasmerang
 * build` run anywhere inside it builds that filter.
 */
import { dirname, isAbsolute, join, resolve } from "node:path";
import { UserError } from "./errors.ts";

/** The marker file of a filter project. */
export const PROJECT_FILE = "wasmerang.json";

/** What a root id made by `wasmerang new` may be, as a phrase for messages. */
export const ROOT_ID_RULE =
  "must be letters, digits, '.', '_' or '-', starting with a letter or digit";

/** Whether `text` is a root id `wasmerang new` accepts: plain enough for YAML, logs and source text. */
export function isRootId(text: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(text);
}

/** What `wasmerang.json` says, with its paths made absolute. */
export interface FilterProject {
  /** The folder holding `wasmerang.json`. */
  dir: string;
  /** The AssemblyScript entry file (absolute). */
  entry: string;
  /** The root id the filter registers (`registerRootContext`), given to the proxy as `root_id`. */
  rootId: string;
  /** Where `wasmerang build` writes the module (absolute). */
  output: string;
  /** The version of the filter library the project carries in its lib/ folder, if recorded. */
  library?: string;
}

/** The contents of `wasmerang.json`, paths relative to its folder. */
export interface ProjectFile {
  /** The entry file, e.g. `assembly/index.ts`. */
  entry: string;
  /** The root id, e.g. `wasmerang`. */
  rootId: string;
  /** The module's path, e.g. `build/filter.wasm`. */
  output: string;
  /** The filter library's version copied into the project. */
  library?: string;
}

/**
 * The project whose folder holds `from` (the nearest `wasmerang.json` at or
 * above it), or undefined when there is none. A marker that cannot be read or
 * is invalid is one line naming it.
 */
export async function findProject(
  from: string = Deno.cwd(),
): Promise<FilterProject | undefined> {
  let dir = resolve(from);
  while (true) {
    const file = join(dir, PROJECT_FILE);
    let text: string | undefined;
    try {
      text = await Deno.readTextFile(file);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        throw new UserError(
          `cannot read ${file}: ${(error as Error).message}`,
        );
      }
    }
    if (text !== undefined) return parseProject(dir, text);
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** The project described by `text`, the contents of `dir`'s `wasmerang.json`. */
export function parseProject(dir: string, text: string): FilterProject {
  const file = join(dir, PROJECT_FILE);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UserError(
      `${file} is not JSON: ${(error as Error).message}`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UserError(
      `${file} must be a JSON object with "entry", "rootId" and "output"`,
    );
  }
  const fields = value as Record<string, unknown>;
  const text_ = (key: string): string => {
    const field = fields[key];
    if (typeof field !== "string" || field.trim() === "") {
      throw new UserError(
        `${file}: "${key}" must be a non-empty string (see \`wasmerang new\`)`,
      );
    }
    return field;
  };
  const entry = text_("entry");
  if (!entry.endsWith(".ts")) {
    throw new UserError(
      `${file}: "entry" ${
        JSON.stringify(entry)
      } must be an AssemblyScript file ending in .ts`,
    );
  }
  const rootId = text_("rootId");
  if (!isRootId(rootId)) {
    throw new UserError(
      `${file}: "rootId" ${JSON.stringify(rootId)} ${ROOT_ID_RULE}`,
    );
  }
  const output = text_("output");
  const library = typeof fields.library === "string"
    ? fields.library
    : undefined;
  const inside = (path: string) => isAbsolute(path) ? path : join(dir, path);
  return {
    dir,
    entry: inside(entry),
    rootId,
    output: inside(output),
    ...(library === undefined ? {} : { library }),
  };
}
