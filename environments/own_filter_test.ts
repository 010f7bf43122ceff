/**
 * A filter that is not the parity filter (testing/digit_filter.ts: its own
 * root id, its own cluster names, its own rule) runs through `up local` and
 * `up envoy`, and `probe` judges it by its own decisions; a misroute (judged
 * by another configuration or module than the one running) is still caught,
 * exit 1. The Envoy half runs when $WASMERANG_ENVOY names an Envoy.
 */
import { assert, assertEquals, assertMatch } from "../host/testing/assert.ts";
import { runCli } from "../testing/cli.ts";
import { digitDecision, digitFilter } from "../testing/digit_filter.ts";

const SOURCES = "127.0.0.10,127.0.0.12,127.0.0.15,127.0.0.17";

/** The CLI with this test's state folder; a run that hangs is stopped after 60 s. */
function wasmerang(args: string[], stateDir: string) {
  return runCli(args, { stateDir, timeoutMs: 90_000 });
}

interface Result {
  source: string;
  chosen: string | null;
  expected: string | null;
  got: string | null;
  ok: boolean;
}

async function ownFilterStory(mode: "local" | "envoy", extra: string[]) {
  const stateDir = await Deno.makeTempDir({ prefix: "wasmerang-own-" });
  const wasm = `${stateDir}/digit.wasm`;
  const other = `${stateDir}/other.wasm`;
  await Deno.writeFile(wasm, await digitFilter());
  await Deno.writeFile(
    other,
    await digitFilter({ low: "beta", high: "alpha" }),
  );
  try {
    const up = await wasmerang([
      "up",
      mode,
      "--detach",
      "--wasm",
      wasm,
      "--root-id",
      "digit-router",
      "--config",
      "4",
      "--listen",
      "127.0.0.1:0",
      "--cluster",
      "gamma=127.0.0.1:0",
      "--cluster",
      "alpha=127.0.0.1:0",
      "--cluster",
      "beta=127.0.0.1:0",
      ...extra,
    ], stateDir);
    assertEquals(up.code, 0, up.stderr);
    assertMatch(up.stdout, /^gamma +127\.0\.0\.1:\d+ +\(default cluster\)$/m);
    assertMatch(up.stdout, /^alpha +127\.0\.0\.1:\d+$/m);
    assertMatch(
      up.stdout,
      /^filter +.*digit\.wasm \(sha256 [0-9a-f]{12}…\), root id digit-router, configuration "4"$/m,
    );
    const state = JSON.parse(
      await Deno.readTextFile(`${stateDir}/${mode}.json`),
    );
    assertEquals(state.wasm, wasm);
    assertEquals(state.rootId, "digit-router");
    assertEquals(state.config, "4");
    assertEquals(state.defaultCluster, "gamma");
    assertEquals(state.wasmSha256.length, 64);

    // Judged by its own decisions: 10 left alone (gamma), 12 alpha, 15 and 17 beta.
    const probe = await wasmerang(
      ["probe", mode, "--json", "--from", SOURCES],
      stateDir,
    );
    assertEquals(probe.code, 0, probe.stdout + probe.stderr);
    const report = JSON.parse(probe.stdout);
    assertEquals(report.filter.rootId, "digit-router");
    assertEquals(report.filter.module, wasm);
    assertEquals(
      report.results.map((result: Result) => [
        result.source,
        result.chosen,
        result.got,
        result.ok,
      ]),
      SOURCES.split(",").map((source) => {
        const chosen = digitDecision(`${source}:1`, "4");
        return [source, chosen, chosen ?? "gamma", true];
      }),
    );
    const text = await wasmerang(["probe", mode, "--from", SOURCES], stateDir);
    assertEquals(text.code, 0, text.stderr);
    assert(!/parity/.test(text.stdout), text.stdout);
    assertMatch(
      text.stdout,
      /127\.0\.0\.10 +│ \(left alone\) +│ gamma +│ gamma /,
    );

    // A misroute is caught: judged by another configuration than the one running…
    const config = await wasmerang(
      ["probe", mode, "--json", "--from", SOURCES, "--config", "6"],
      stateDir,
    );
    assertEquals(config.code, 1, config.stderr);
    const misrouted = JSON.parse(config.stdout).results.filter(
      (result: Result) => !result.ok,
    );
    assertEquals(
      misrouted.map((result: Result) => [result.source, result.expected]),
      [["127.0.0.15", "alpha"]],
    );
    // …or by another module.
    const module = await wasmerang(
      ["probe", mode, "--from", SOURCES, "--wasm", other],
      stateDir,
    );
    assertEquals(module.code, 1, module.stderr);
    assertMatch(module.stdout, /✗ 3 of 4 connections did not reach/);

    // The recorded module changed on disk: the probe will not judge by it.
    await Deno.copyFile(other, wasm);
    const changed = await wasmerang(["probe", mode], stateDir);
    assertEquals(changed.code, 2);
    assertMatch(
      changed.stderr.trim(),
      /^wasmerang: .*digit\.wasm is not the module the running example started with/,
    );
    assertEquals(changed.stderr.trim().split("\n").length, 1);

    const down = await wasmerang(["down", mode], stateDir);
    assertEquals(down.code, 0, down.stderr);
  } finally {
    await wasmerang(["down", mode], stateDir);
    await Deno.remove(stateDir, { recursive: true });
  }
}

Deno.test("a filter of its own runs through up local and is judged by its own decisions", async () => {
  await ownFilterStory("local", []);
});

const envoy = Deno.env.get("WASMERANG_ENVOY");

Deno.test({
  name:
    "a filter of its own runs through up envoy (Envoy's V8) and is judged by its own decisions",
  ignore: envoy === undefined,
  fn: async () => {
    await ownFilterStory("envoy", ["--admin", "127.0.0.1:0"]);
  },
});

Deno.test("up refuses bad clusters and root ids in one usage line each, before anything starts", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "wasmerang-own-" });
  try {
    const cases: [string[], RegExp][] = [
      [["--cluster", "alpha"], /--cluster "alpha": use NAME=HOST:PORT/],
      [["--cluster", "=127.0.0.1:1"], /the cluster name is empty/],
      [
        ["--cluster", "a\u0007b=127.0.0.1:1"],
        /a cluster name must not contain control characters/,
      ],
      [
        ["--cluster", "a=127.0.0.1:1", "--cluster", "a=127.0.0.1:2"],
        /--cluster "a" is given twice/,
      ],
      [["--cluster", "a=nowhere"], /^wasmerang: --cluster a/],
      [
        ["--cluster", "a=127.0.0.1:19555", "--cluster", "b=127.0.0.1:19555"],
        /--cluster a and --cluster b both name 127\.0\.0\.1:19555/,
      ],
      [
        ["--cluster", "a=127.0.0.1:0", "--egress1", "127.0.0.1:0"],
        /--egress1\/--egress2 are the parity example's shorthand/,
      ],
      [["--root-id", ""], /--root-id "": a root id must be non-empty/],
    ];
    for (const mode of ["local", "envoy"]) {
      for (const [args, message] of cases) {
        const run = await wasmerang(
          ["up", mode, "--dry-run", ...args],
          stateDir,
        );
        assertEquals(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
        const lines = run.stderr.trim().split("\n");
        assertEquals(lines.length, 1, run.stderr);
        assertMatch(lines[0], message);
      }
    }
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
});
