/**
 * Whether a path is there: the two questions several commands ask before
 * they read, write or run something.
 *
 * @module
 */

/** True when something (file, folder, …) exists at `path`. */
export async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** True when `path` is a regular file (following symbolic links). */
export function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}
