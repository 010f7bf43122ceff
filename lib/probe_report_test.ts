import assert from "node:assert/strict";
import { UserError } from "./errors.ts";
import {
  probeExitCode,
  probeReport,
  renderProbeReport,
  splitSources,
} from "./probe_report.ts";

Deno.test("a --from list is split on commas, blanks ignored; an empty one is a usage error", () => {
  assert.deepEqual(splitSources(" 127.0.0.10, ,127.0.0.11 "), [
    "127.0.0.10",
    "127.0.0.11",
  ]);
  assert.throws(
    () => splitSources(" , "),
    (error: Error) =>
      error instanceof UserError && error.exitCode === 2 &&
      error.message === "--from needs at least one IP address",
  );
});

Deno.test("the report counts passes and failures, and its table names each source's parity", () => {
  const report = probeReport("127.0.0.1:10000", [
    {
      source: "127.0.0.10",
      expected: "egress1",
      got: "egress1",
      ok: true,
      ms: 1.25,
    },
    {
      source: "127.0.0.11",
      expected: "egress2",
      got: null,
      ok: false,
      ms: 5,
      error: "refused",
    },
  ]);
  assert.equal(report.passed, 1);
  assert.equal(report.failed, 1);
  assert.equal(probeExitCode(report), 1);
  const lines = renderProbeReport(report).split("\n");
  assert.match(
    lines.find((line) => line.includes("127.0.0.10"))!,
    /even .*egress1 .*egress1 .*1\.3 ms .*✓/,
  );
  assert.match(
    lines.find((line) => line.includes("127.0.0.11"))!,
    /odd .*egress2 .*— refused .*✗/,
  );
  assert.equal(
    lines.at(-1),
    "✗ 1 of 2 connections did not reach the expected egress (127.0.0.1:10000)",
  );
  assert.equal(probeExitCode(probeReport("t", [report.results[0]])), 0);
});
