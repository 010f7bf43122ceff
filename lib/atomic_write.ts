/**
 * Writing a file so that a failure leaves no half-written file behind: the
 * bytes go to a temporary name beside it, which is then renamed over it.
 *
 * @module
 */
import { dirname } from "node:path";

/** Writes `bytes` to `path` through a temporary file in the same folder (created if missing). */
export async function writeFileAtomically(
  path: string,
  bytes: Uint8Array,
  options: { mode?: number } = {},
): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.tmp-${Deno.pid}-${
    crypto.randomUUID().slice(0, 8)
  }`;
  try {
    await Deno.writeFile(temporary, bytes, options);
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
}
