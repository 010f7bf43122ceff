/**
 * The detached example's log file, kept bounded: when a write would take it
 * past its limit, the file becomes `<name>.1` (replacing an older one) and a
 * new file starts. At most twice the limit is ever on disk.
 *
 * @module
 */
import type { LineSink } from "./line_writer.ts";

/** Default size at which the log rotates: 8 MiB. */
export const LOG_LIMIT_BYTES = 8 * 1024 * 1024;

/** An append-only log file that rotates at `limitBytes`. */
export class RotatingLog implements LineSink {
  #path: string;
  #limit: number;
  #file: Deno.FsFile;
  #size: number;

  /** Opens (or creates) `path` for appending. */
  constructor(path: string, limitBytes = LOG_LIMIT_BYTES) {
    this.#path = path;
    this.#limit = limitBytes;
    this.#file = Deno.openSync(path, { create: true, append: true });
    this.#size = this.#file.statSync().size;
  }

  /** Appends `bytes`, rotating first when they would not fit under the limit. */
  writeSync(bytes: Uint8Array): number {
    if (this.#size > 0 && this.#size + bytes.length > this.#limit) {
      this.#rotate();
    }
    const written = this.#file.writeSync(bytes);
    this.#size += written;
    return written;
  }

  /** Closes the file. */
  close(): void {
    this.#file.close();
  }

  #rotate(): void {
    this.#file.close();
    Deno.renameSync(this.#path, `${this.#path}.1`);
    this.#file = Deno.openSync(this.#path, { create: true, append: true });
    this.#size = 0;
  }
}
