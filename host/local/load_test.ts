// Load tests of the local data plane, on loopback with real sockets and the
// real filter: many connections at once, and a long run that must not leak
// file descriptors, wasm memory or process memory.
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { embeddedFilter } from "../../lib/filter_module.ts";
import { decideCluster, DEFAULT_CONFIG } from "../../lib/routing.ts";
import { startLocalPlane } from "./plane.ts";
import { readBanner } from "./probe.ts";
import { eventually } from "./testing.ts";

const ANY_PORT = { host: "127.0.0.1", port: 0 };

/** 64 loopback sources, both parities. */
const SOURCES = Array.from({ length: 64 }, (_, i) => `127.0.0.${10 + i}`);

function expected(source: string): string {
  return decideCluster(`${source}:1`, "127.0.0.1:1", DEFAULT_CONFIG)!;
}

/** A plane that only counts its access-log lines (and keeps the odd ones out). */
async function countingPlane() {
  const seen = { lines: 0, failed: [] as string[] };
  const plane = await startLocalPlane({
    listen: ANY_PORT,
    egress: [ANY_PORT, ANY_PORT],
    config: "standalone",
    wasm: embeddedFilter(),
    onAccess: (line, record) => {
      seen.lines++;
      if (record.reason !== undefined && seen.failed.length < 10) {
        seen.failed.push(line);
      }
    },
  });
  return { plane, seen };
}

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
    "1,000 concurrent connections through the proxy: every one routed right, no error",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const { plane, seen } = await countingPlane();
    try {
      const results = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => {
          const source = SOURCES[i % SOURCES.length];
          return readBanner(source, plane.listen, 20_000).then((seen) => ({
            source,
            ...seen,
          }));
        }),
      );
      const errors = results.filter((result) => result.banner === null);
      assert.deepEqual(errors.slice(0, 5), [], `${errors.length} failed`);
      const wrong = results.filter((result) =>
        result.banner !== expected(result.source)
      );
      assert.equal(
        wrong.length,
        0,
        `${wrong.length} answered by the wrong egress`,
      );
      await eventually(() => seen.lines === 1000, 10_000);
      assert.deepEqual(seen.failed, []);
      await eventually(() => plane.proxy.openSockets === 0, 10_000);
    } finally {
      await plane.close();
    }
  },
});

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
