// The CLI as a user meets it: a subprocess, its exit code and what it prints.
import assert from "node:assert/strict";
import { embeddedFilter } from "./lib/filter_module.ts";
import { runCli } from "./testing/cli.ts";
import { ENVIRONMENTS } from "./environments/mod.ts";
import type { OptionDeclaration } from "./environments/environment.ts";

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

/** The long flag of a declaration: `--listen <host:port>` → `--listen`. */
function longFlag(declaration: OptionDeclaration): string {
  return declaration.flags.split(/[ ,]/)[0];
}

Deno.test("every mode refuses a flag of another mode: exit 2, one line naming the flags it takes", async () => {
  const verbs = ["scaffold", "up", "probe", "down"] as const;
  const cases: { args: string[]; verb: string; mode: string; flag: string }[] =
    [];
  for (const verb of verbs) {
    for (const environment of ENVIRONMENTS) {
      const own = environment.options[verb];
      if (own === undefined) continue;
      const takes = new Set(own.map(longFlag));
      // Another mode's flag of this verb first, else one of another verb
      // (down istio takes every flag the other modes' down take).
      const foreign = [verb, ...verbs].flatMap((other) =>
        ENVIRONMENTS.flatMap((them) => them.options[other] ?? [])
      ).find((declaration) => !takes.has(longFlag(declaration)));
      assert.ok(foreign, `${verb} ${environment.name}: no foreign flag`);
      const flag = longFlag(foreign);
      cases.push({
        args: [
          verb,
          environment.name,
          flag,
          ...(foreign.flags.includes("<") ? ["x"] : []),
        ],
        verb,
        mode: environment.name,
        flag,
      });
    }
  }
  assert.ok(cases.length >= 14);
  for (const { args, verb, mode, flag } of cases) {
    const { code, stdout, stderr } = await runCli(args);
    assert.equal(code, 2, `${args.join(" ")}: ${stderr}`);
    assert.equal(stdout, "");
    const lines = stderr.trim().split("\n");
    assert.equal(lines.length, 1, stderr);
    assert.match(
      lines[0],
      new RegExp(
        `^wasmerang: ${verb} ${mode} does not take ${flag} \\(it takes: --`,
      ),
    );
  }
});

Deno.test("up <mode> --help shows only the mode's flags, each default once", async () => {
  for (const environment of ENVIRONMENTS) {
    const { code, stdout } = await runCli(["up", environment.name, "--help"]);
    assert.equal(code, 0);
    const shown = [...stdout.matchAll(/^ {2}(--[\w-]+)/gm)].map((m) => m[1]);
    const declared = environment.options.up.filter((d) => !d.hidden).map(
      longFlag,
    );
    assert.deepEqual(shown, [...declared], environment.name);
    for (const declaration of environment.options.up) {
      if (declaration.default === undefined) continue;
      const text = stdout.replace(/\s+/g, " ");
      assert.equal(
        text.split(`(default: ${declaration.default})`).length - 1,
        1,
        `${environment.name} ${declaration.flags}`,
      );
    }
    assert.doesNotMatch(stdout, /--detached-in/);
  }
});

Deno.test("probe without a mode is probe local, flags and all", async () => {
  const { code, stderr } = await runCli(["probe", "--port", "80"]);
  assert.equal(code, 2);
  assert.match(stderr, /^wasmerang: probe local does not take --port /);
});
