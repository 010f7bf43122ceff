// Load test of the local data plane, on loopback with real sockets and the
// real filter: many connections at once. The long run that must not leak
// (100,000 connections) is in load_soak.ts (`deno task test:soak`).
import assert from "node:assert/strict";
import { readBanner } from "../lib/loopback_probe.ts";
import {
  countingPlane,
  eventually,
  expectedEgress as expected,
  SOURCES,
} from "./testing.ts";

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
