import {
  assertEquals,
  assertMatch,
  assertRejects,
  assertThrows,
} from "../host/testing/assert.ts";
import { UserError } from "./errors.ts";
import { probeExitCode } from "./probe_report.ts";
import { embeddedFilter } from "./filter_module.ts";
import { DEFAULT_SOURCES, parseSources, probeLocal } from "./loopback_probe.ts";
import { testPlane } from "../dataplane/testing.ts";
import { startEgress } from "../dataplane/egress.ts";

Deno.test("the probe over the default spread: every source answered as the filter decides", async () => {
  const { plane } = await testPlane();
  try {
    const report = await probeLocal({
      target: plane.listen,
      sources: DEFAULT_SOURCES,
      judge: plane.judge,
    });
    assertEquals([report.passed, report.failed], [8, 0]);
    assertEquals(
      new Set(report.results.map((result) => result.got)),
      new Set(["egress1", "egress2"]),
    );
    assertEquals(probeExitCode(report), 0);
  } finally {
    await plane.close();
  }
});

Deno.test("a mismatch fails the probe (exit 1)", async () => {
  const { plane } = await testPlane();
  try {
    const report = await probeLocal({
      target: plane.listen,
      sources: ["127.0.0.10", "127.0.0.11"],
      count: 2,
      // Judged by another configuration than the one running.
      judge: {
        ...plane.judge,
        configuration: '{"clusters":["egress2","egress1"]}',
      },
    });
    assertEquals([report.passed, report.failed], [0, 4]);
    assertEquals(probeExitCode(report), 1);
  } finally {
    await plane.close();
  }
});

Deno.test("an unreachable target is exit 2 with the address and the command that starts it", async () => {
  const egress = await startEgress("gone", { host: "127.0.0.1", port: 0 });
  const target = egress.address;
  await egress.close();
  const error = await assertRejects(
    () =>
      probeLocal({
        target,
        sources: ["127.0.0.10"],
        judge: {
          wasm: embeddedFilter(),
          configuration: "",
          defaultCluster: "egress1",
          module: "the embedded filter",
        },
      }),
    UserError,
  );
  assertEquals(error.exitCode, 2);
  assertMatch(
    error.message,
    /^nothing answers at 127\.0\.0\.1:\d+: start the local example with 'wasmerang up local --detach'$/,
  );
});

Deno.test("--from takes loopback IPv4 sources only", () => {
  assertEquals(parseSources("127.0.0.3, 127.0.0.4"), [
    "127.0.0.3",
    "127.0.0.4",
  ]);
  for (const bad of ["10.0.0.5", "::1", "127.0.0.300", ","]) {
    const error = assertThrows(() => parseSources(bad), UserError);
    assertEquals(error.exitCode, 2, bad);
  }
});
