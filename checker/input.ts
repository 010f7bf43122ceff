/**
 * What `wasmerang check` agrees to read: a regular file (a symlink is
 * followed) of at most {@link CHECK_INPUT_LIMIT} bytes, holding UTF-8 text.
 * Anything else is refused in one line before it is read whole: the file is
 * stat'ed first (a FIFO, a device such as `/dev/zero`, a directory is never
 * opened), and at most limit + 1 bytes are read, for a file that grows or
 * whose size the system does not tell.
 *
 * @example
 * ```ts
 * import { readCheckInput } from "./input.ts";
 * const text = await readCheckInput("envoy.yaml");
 * ```
 *
 * @module
 */
import { fileErrorReason, UserError } from "../lib/errors.ts";

/** The largest file `check` reads: 16 MiB, far above any real bootstrap or manifest. */
export const CHECK_INPUT_LIMIT = 16 * 1024 * 1024;

/** `16 MiB`, `17.0 MiB`, `512 bytes`. */
function size(bytes: number): string {
  if (bytes < 1024 * 1024) return `${bytes} bytes`;
  const mib = bytes / (1024 * 1024);
  return `${Number.isInteger(mib) ? mib : mib.toFixed(1)} MiB`;
}

/** What kind of non-regular file `info` describes, in words. */
function kindOf(info: Deno.FileInfo): string {
  if (info.isDirectory) return "a directory";
  if (info.isFifo) return "a FIFO (named pipe)";
  if (info.isCharDevice) return "a character device";
  if (info.isBlockDevice) return "a block device";
  if (info.isSocket) return "a socket";
  return "not a regular file";
}

/**
 * Why `bytes` are not YAML or JSON text (a NUL byte, invalid UTF-8), or
 * undefined when they are text.
 */
export function binaryReason(bytes: Uint8Array): string | undefined {
  const nul = bytes.indexOf(0);
  if (nul >= 0) return `a NUL byte at offset ${nul}`;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return "not valid UTF-8";
  }
  return undefined;
}

/**
 * Reads `file` as text for the checker, or throws a one-line
 * {@link UserError}: exit 2 for what is not a file to check (missing,
 * unreadable, not regular, over `limit`), exit 1 for a file that is not text.
 */
export async function readCheckInput(
  file: string,
  limit: number = CHECK_INPUT_LIMIT,
): Promise<string> {
  const refuse = (why: string, code = 2): never => {
    throw new UserError(`cannot check ${file}: ${why}`, code);
  };
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(file);
  } catch (error) {
    throw new UserError(`cannot read ${file}: ${fileErrorReason(error)}`, 2);
  }
  if (!info.isFile) {
    return refuse(`${kindOf(info)}, not a regular file`);
  }
  const tooBig = (bytes: string) =>
    refuse(`${bytes}, over the ${size(limit)} limit for a configuration file`);
  if (info.size > limit) return tooBig(size(info.size));
  let bytes: Uint8Array;
  try {
    bytes = await readAtMost(file, limit + 1);
  } catch (error) {
    throw new UserError(`cannot read ${file}: ${fileErrorReason(error)}`, 2);
  }
  if (bytes.length > limit) return tooBig("more than that");
  const binary = binaryReason(bytes);
  if (binary !== undefined) {
    return refuse(`not YAML or JSON text (${binary})`, 1);
  }
  return new TextDecoder().decode(bytes);
}

/** The first `max` bytes of a file (all of it when shorter), read in chunks. */
async function readAtMost(file: string, max: number): Promise<Uint8Array> {
  using handle = await Deno.open(file, { read: true });
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (total < max) {
    const chunk = new Uint8Array(Math.min(1024 * 1024, max - total));
    const read = await handle.read(chunk);
    if (read === null) break;
    chunks.push(chunk.subarray(0, read));
    total += read;
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}
