/**
 * Log lines written in batches: a busy proxy pays one write per batch instead
 * of one per line (two lines per connection otherwise cost two syscalls).
 * Lines reach the sink within `flushAfterMs`, or sooner when a batch fills.
 *
 * @module
 */

/** Where batches go: a file, or `Deno.stdout`. */
export interface LineSink {
  writeSync(bytes: Uint8Array): number;
}

/** Buffers lines and writes them to a sink in batches. */
export class LineWriter {
  #sink: LineSink;
  #flushAfterMs: number;
  #maxBytes: number;
  #pending: string[] = [];
  #pendingBytes = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #encoder = new TextEncoder();

  /**
   * @param sink where batches are written
   * @param flushAfterMs longest time a line waits (default 50 ms)
   * @param maxBytes batch size that triggers an immediate write (default 64 KiB)
   */
  constructor(sink: LineSink, flushAfterMs = 50, maxBytes = 64 * 1024) {
    this.#sink = sink;
    this.#flushAfterMs = flushAfterMs;
    this.#maxBytes = maxBytes;
  }

  /** Queues one line (without its newline). */
  write(line: string): void {
    this.#pending.push(line);
    this.#pendingBytes += line.length + 1;
    if (this.#pendingBytes >= this.#maxBytes) this.flush();
    else {
      this.#timer ??= setTimeout(() => this.flush(), this.#flushAfterMs);
    }
  }

  /** Writes every queued line now. Write errors are dropped: logging is best effort. */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return;
    const bytes = this.#encoder.encode(this.#pending.join("\n") + "\n");
    this.#pending = [];
    this.#pendingBytes = 0;
    try {
      for (let at = 0; at < bytes.length;) {
        at += this.#sink.writeSync(bytes.subarray(at));
      }
    } catch {
      // A closed or full sink loses the batch, never the proxy.
    }
  }
}
