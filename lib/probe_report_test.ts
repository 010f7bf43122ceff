import assert from "node:assert/strict";
import { UserError } from "./errors.ts";
import {
  judgedResult,
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

Deno.test("the report counts passes and failures, and its table names what the filter chose", () => {
  const report = probeReport("127.0.0.1:10000", [
    {
      source: "127.0.0.10",
      chosen: "egress1",
      expected: "egress1",
      got: "egress1",
      ok: true,
      ms: 1.25,
    },
    {
      source: "127.0.0.11",
      chosen: "egress2",
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
    /egress1 .*egress1 .*egress1 .*1\.3 ms .*✓/,
  );
  assert.match(
    lines.find((line) => line.includes("127.0.0.11"))!,
    /egress2 .*egress2 .*— refused .*✗/,
  );
  assert.equal(
    lines.at(-1),
    "✗ 1 of 2 connections did not reach the expected egress (127.0.0.1:10000)",
  );
  assert.equal(probeExitCode(probeReport("t", [report.results[0]])), 0);
});

Deno.test("the report names the judging filter, a connection left alone and a trap", () => {
  const decision = { source: "127.0.0.10:40000", cluster: null, logs: [] };
  const alone = judgedResult("127.0.0.10", decision, "gamma", {
    got: "gamma",
    ms: 1,
  });
  assert.deepEqual(alone, {
    source: "127.0.0.10",
    chosen: null,
    expected: "gamma",
    got: "gamma",
    ok: true,
    ms: 1,
  });
  const trapped = judgedResult(
    "127.0.0.11",
    {
      ...decision,
      trapped: "unreachable in proxy_on_new_connection",
    },
    "gamma",
    { got: null, ms: 2, error: "closed before a banner" },
  );
  assert.equal(trapped.ok, false);
  assert.equal(trapped.expected, null);
  const report = probeReport("t", [alone, trapped], {
    module: "/tmp/x.wasm",
    sha256: "ab".repeat(32),
    rootId: "digit-router",
    configuration: "4",
  });
  const text = renderProbeReport(report);
  assert.match(
    text.split("\n")[0],
    /^filter: \/tmp\/x\.wasm \(sha256 abababababab…\), root id digit-router, configuration "4"/,
  );
  assert.match(text, /127\.0\.0\.10 .*\(left alone\) .*gamma .*gamma/);
  assert.match(text, /trapped: unreachable in proxy_on_new_connection/);
  assert.doesNotMatch(text, /parity/);
});
