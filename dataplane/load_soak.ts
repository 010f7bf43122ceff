// Soak of the local data plane (`deno task test:soak`): a long run on
// loopback with real sockets and the real filter that must not leak file
// descriptors, wasm memory or process memory.
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { readBanner } from "../lib/loopback_probe.ts";
import {
  countingPlane,
  eventually,
  expectedEgress as expected,
  SOURCES,
} from "./testing.ts";

/** V8's full garbage collection, so that heap and RSS samples show what is kept. */
function collectGarbage(): void {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

function openFds(): number {
  return [...Deno.readDirSync("/proc/self/fd")].length;
}

Deno.test({
  name:
    "100,000 connections, 8 at a time: descriptors and wasm memory return to their level, RSS does not climb",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const TOTAL = 100_000;
    const WARMUP = 2_000;
    const WINDOW = 10_000;
    const CONCURRENCY = 8;
    const { plane, seen } = await countingPlane();
    try {
      let next = 0;
      let failures = 0;
      let wrong = 0;
      const run = async (count: number) => {
        const end = next + count;
        const worker = async () => {
          while (next < end) {
            const source = SOURCES[next++ % SOURCES.length];
            const result = await readBanner(source, plane.listen, 10_000);
            if (result.banner === null) failures++;
            else if (result.banner !== expected(source)) wrong++;
          }
        };
        await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      };
      const settle = async (lines: number) => {
        await eventually(() => seen.lines === lines, 10_000);
        await eventually(() => plane.proxy.openSockets === 0, 10_000);
      };

      await run(WARMUP);
      await settle(WARMUP);
      const fdsBefore = openFds();
      const wasmBefore = plane.proxy.wasmMemoryBytes();
      const rss: number[] = [];
      const heap: number[] = [];
      while (next < TOTAL) {
        await run(Math.min(WINDOW, TOTAL - next));
        collectGarbage();
        const usage = Deno.memoryUsage();
        rss.push(usage.rss);
        heap.push(usage.heapUsed);
      }
      await settle(TOTAL);
      const fdsAfter = openFds();
      const wasmAfter = plane.proxy.wasmMemoryBytes();

      assert.equal(failures, 0, "every connection got a banner");
      assert.equal(wrong, 0, "every connection went to its parity's egress");
      assert.deepEqual(seen.failed, []);
      assert.ok(
        Math.abs(fdsAfter - fdsBefore) <= 5,
        `open descriptors ${fdsBefore} before, ${fdsAfter} after`,
      );
      assert.ok(
        wasmAfter - wasmBefore <= 128 * 1024,
        `wasm memory ${wasmBefore} before, ${wasmAfter} after`,
      );
      // Sampled after a full GC at the end of each 10,000-connection window:
      // 100 bytes kept per connection would grow the heap by ~8 MiB, and
      // RSS may not keep climbing from the first windows to the last.
      const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
      const trace = `heap (MiB) ${heap.map(mib).join(", ")}; RSS (MiB) ${
        rss.map(mib).join(", ")
      }`;
      assert.ok(heap.at(-1)! - heap[0] <= 4 * 2 ** 20, trace);
      assert.ok(
        Math.max(...rss.slice(-3)) - Math.max(...rss.slice(0, 3)) <=
          32 * 2 ** 20,
        trace,
      );
    } finally {
      await plane.close();
    }
  },
});
