/** `wasmerang new DIR`: write a filter project (see lib/new_project.ts). */
import { join } from "node:path";
import { writeFileAtomically } from "../lib/atomic_write.ts";
import { fileErrorReason, UsageError, UserError } from "../lib/errors.ts";
import { isRootId, ROOT_ID_RULE } from "../lib/filter_project.ts";
import { projectFiles } from "../lib/new_project.ts";

/** Options of `wasmerang new`. */
export interface NewOptions {
  /** The root id the filter registers; default `wasmerang`. */
  rootId?: string;
}

/** Writes a new filter project into `dir`, which must be missing or empty. */
export async function newProject(
  dir: string,
  options: NewOptions = {},
): Promise<void> {
  const rootId = options.rootId ?? "wasmerang";
  if (!isRootId(rootId)) {
    throw new UsageError(`--root-id ${JSON.stringify(rootId)} ${ROOT_ID_RULE}`);
  }
  try {
    for await (const _ of Deno.readDir(dir)) {
      throw new UserError(
        `${dir} is not empty: give a new folder (wasmerang new writes a whole project)`,
      );
    }
  } catch (error) {
    if (error instanceof UserError) throw error;
    if (!(error instanceof Deno.errors.NotFound)) {
      throw new UserError(`cannot use ${dir}: ${fileErrorReason(error)}`);
    }
  }
  const files = await projectFiles(rootId);
  for (const [path, text] of files) {
    const target = join(dir, path);
    try {
      await writeFileAtomically(target, new TextEncoder().encode(text));
    } catch (error) {
      throw new UserError(
        `cannot write ${target}: ${fileErrorReason(error)}`,
      );
    }
  }
  const shown = dir;
  console.log(`✓ wrote a filter project in ${shown} (root id ${rootId})`);
  for (const path of files.keys()) console.log(`  ${path}`);
  console.log("next:");
  console.log(`  cd ${shown}`);
  console.log("  edit assembly/decide.ts and the table in decisions_test.ts");
  console.log("  wasmerang build && deno test -A");
  console.log(
    "  (deno test also runs the table in Envoy when $WASMERANG_ENVOY or envoy on PATH is there)",
  );
}
