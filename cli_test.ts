// The CLI as a user meets it: a subprocess, its exit code and what it prints.
import assert from "node:assert/strict";
import { embeddedFilter } from "./lib/filter_module.ts";
import { runCli } from "./testing/cli.ts";

Deno.test("an unknown subcommand is one clear line and exit 2", async () => {
  const { code, stdout, stderr } = await runCli(["biuld"]);
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.equal(stderr.trim().split("\n").length, 1);
  assert.match(stderr, /^wasmerang: unknown command 'biuld'.*build/);
});

Deno.test("an unknown flag is one clear line and exit 2", async () => {
  const { code, stderr } = await runCli(["route", "--colour", "10.0.0.2"]);
  assert.equal(code, 2);
  assert.equal(stderr.trim().split("\n").length, 1);
  assert.match(stderr, /unknown option '--colour'/);
});

Deno.test("a missing argument is one clear line and exit 2", async () => {
  const { code, stderr } = await runCli(["route"]);
  assert.equal(code, 2);
  assert.equal(stderr.trim().split("\n").length, 1);
  assert.match(stderr, /missing required argument/);
});

Deno.test("route --json prints one JSON array with the Istio clusters", async () => {
  const { code, stdout } = await runCli([
    "route",
    "--json",
    "10.0.0.2:5555",
    "10.0.0.3:5555",
    "--config",
    "istio",
  ]);
  assert.equal(code, 0);
  const decisions = JSON.parse(stdout);
  assert.deepEqual(
    decisions.map((
      d: { source: string; cluster: string },
    ) => [d.source, d.cluster]),
    [
      ["10.0.0.2:5555", "outbound|443||egress1.default.svc.cluster.local"],
      ["10.0.0.3:5555", "outbound|443||egress2.default.svc.cluster.local"],
    ],
  );
  assert.ok(
    decisions.every((d: { logs: string[] }) =>
      d.logs.some((line) => line.includes("->"))
    ),
  );
});

Deno.test("route prints one line per source, and no override for an unparseable one", async () => {
  const { code, stdout } = await runCli(["route", "10.0.0.2", "not-an-ip"]);
  assert.equal(code, 0);
  assert.deepEqual(stdout.trim().split("\n"), [
    "10.0.0.2  → egress1",
    "not-an-ip → (no override: source is not an IP address)",
  ]);
});

Deno.test("route with a configuration the filter rejects exits 1 with the filter's reason", async () => {
  const { code, stdout, stderr } = await runCli([
    "route",
    "10.0.0.2",
    "--config",
    '{"mode":"mesh"}',
  ]);
  assert.equal(code, 1);
  assert.equal(stdout, "");
  assert.match(stderr, /"mode" must be "standalone" or "istio"/);
  assert.doesNotMatch(stderr, /\bat .*\.ts:\d+/);
});

Deno.test("route --wasm with a missing file says so and how to build one", async () => {
  const { code, stderr } = await runCli([
    "route",
    "10.0.0.2",
    "--wasm",
    "/nonexistent/filter.wasm",
  ]);
  assert.equal(code, 1);
  assert.match(
    stderr,
    /cannot read \/nonexistent\/filter.wasm: no such file .*wasmerang build/,
  );
});

// The one release build of filter/ in `deno task test`: it also keeps the
// embedded module byte-identical to what filter/ builds to today.
Deno.test("build writes the module, describes it, and it is the embedded module byte for byte", async () => {
  const out = await Deno.makeTempFile({ suffix: ".wasm" });
  try {
    const { code, stdout, stderr } = await runCli(["build", "--out", out]);
    assert.equal(code, 0, stderr);
    const bytes = await Deno.readFile(out);
    assert.ok(WebAssembly.validate(bytes));
    assert.match(stdout, new RegExp(`size +${bytes.byteLength} bytes`));
    assert.match(stdout, /sha256 +[0-9a-f]{64}/);
    assert.match(stdout, /abi +proxy-wasm 0\.2\.1/);
    assert.match(stdout, /root id +wasmerang/);
    assert.deepEqual(
      embeddedFilter(),
      bytes,
      "run `deno task embed` to refresh the embedded filter",
    );
  } finally {
    await Deno.remove(out);
  }
});
