/**
 * Writing a scaffold folder safely: everything is checked before anything is
 * written (a file that exists with other content is refused unless `force`),
 * and each file is written to a temporary name beside it, then renamed, so a
 * reader never sees a half-written file.
 */
import { writeFileAtomically } from "./atomic_write.ts";
import * as path from "node:path";
import { UserError } from "./errors.ts";

/** One file of a scaffold, relative to its folder. */
export interface ScaffoldFile {
  /** Path relative to the scaffold folder, e.g. `envoy.yaml`. */
  path: string;
  /** The file's content: text (written as UTF-8) or bytes. */
  content: string | Uint8Array;
}

/** What happened to one file. */
export interface WrittenFile {
  /** Path relative to the scaffold folder. */
  path: string;
  /** `created` (new), `unchanged` (same content, not rewritten) or `replaced` (differed, overwritten). */
  status: "created" | "unchanged" | "replaced";
  /** Size of the file's content, in bytes. */
  bytes: number;
}

function bytesOf(content: string | Uint8Array): Uint8Array {
  return typeof content === "string"
    ? new TextEncoder().encode(content)
    : content;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, index) => byte === b[index]);
}

async function readIfExists(file: string): Promise<Uint8Array | undefined> {
  try {
    return await Deno.readFile(file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    if (error instanceof Deno.errors.IsADirectory) {
      throw new UserError(`${file} is a directory`);
    }
    throw error;
  }
}

/** What writing `files` into `dir` would do, without writing anything. */
export async function planScaffold(
  dir: string,
  files: ScaffoldFile[],
): Promise<WrittenFile[]> {
  const info = await Deno.stat(dir).catch(() => undefined);
  if (info && !info.isDirectory) {
    throw new UserError(`${dir} exists and is not a directory`);
  }
  return await Promise.all(files.map(async (file) => {
    const bytes = bytesOf(file.content);
    const existing = await readIfExists(path.join(dir, file.path));
    const status = existing === undefined
      ? "created"
      : equal(existing, bytes)
      ? "unchanged"
      : "replaced";
    return { path: file.path, status, bytes: bytes.length } as WrittenFile;
  }));
}

/**
 * Writes `files` into `dir` (created if needed). Refuses, before writing
 * anything, when a file exists with different content and `force` is not set.
 */
export async function writeScaffold(
  dir: string,
  files: ScaffoldFile[],
  options: { force?: boolean; command?: string } = {},
): Promise<WrittenFile[]> {
  const planned = await planScaffold(dir, files);
  const differing = planned.filter((file) => file.status === "replaced");
  if (differing.length > 0 && !options.force) {
    const names = differing.map((file) => path.join(dir, file.path)).join(", ");
    throw new UserError(
      `refusing to overwrite ${names}: ${
        differing.length === 1 ? "it differs" : "they differ"
      } from what ` +
        `${
          options.command ?? "scaffold"
        } writes (pass --force to replace, or choose another --dir)`,
    );
  }
  for (const file of files) {
    const target = path.join(dir, file.path);
    const status = planned.find((entry) => entry.path === file.path)!.status;
    if (status === "unchanged") continue;
    await writeFileAtomically(target, bytesOf(file.content), { mode: 0o644 });
  }
  return planned;
}

/** One line per file: `created envoy-docker/envoy.yaml (2.1 KiB)`. */
export function renderWritten(dir: string, written: WrittenFile[]): string {
  return written.map((file) => {
    const size = file.bytes < 1024
      ? `${file.bytes} B`
      : `${(file.bytes / 1024).toFixed(1)} KiB`;
    return `${file.status.padEnd(9)} ${path.join(dir, file.path)} (${size})`;
  }).join("\n");
}
