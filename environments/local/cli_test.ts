import {
  assert,
  assertEquals,
  assertMatch,
} from "../../host/testing/assert.ts";
import { cliCommand, runCli } from "../../testing/cli.ts";
import { bannerFrom } from "../../testing/envoy.ts";
import { startEgress } from "../../dataplane/egress.ts";
import { isListening } from "../../testing/ports.ts";
import { eventually } from "../../dataplane/testing.ts";

const FREE = [
  "--listen",
  "127.0.0.1:0",
  "--egress1",
  "127.0.0.1:0",
  "--egress2",
  "127.0.0.1:0",
];

/** The CLI with this test's state folder; a run that hangs is stopped after 60 s. */
function wasmerang(args: string[], stateDir: string) {
  return runCli(args, { stateDir, timeoutMs: 60_000 });
}

Deno.test("up local --detach, probe local, down local", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "wasmerang-state-" });
  try {
    const up = await wasmerang(["up", "local", "--detach", ...FREE], stateDir);
    assertEquals(up.code, 0, up.stderr);
    assertMatch(up.stdout, /running in the background \(pid \d+\)/);
    const again = await wasmerang(
      ["up", "local", "--detach", ...FREE],
      stateDir,
    );
    assertEquals(again.code, 1);
    assertMatch(
      again.stderr.trim(),
      /^wasmerang: a local example is already running \(pid \d+/,
    );

    const probe = await wasmerang([
      "probe",
      "local",
      "--json",
      "--from",
      "127.0.0.10,127.0.0.11",
    ], stateDir);
    assertEquals(probe.code, 0, probe.stderr);
    const report = JSON.parse(probe.stdout);
    assertEquals([report.passed, report.failed], [2, 0]);
    assertEquals(report.results.map((result: { got: string }) => result.got), [
      "egress1",
      "egress2",
    ]);

    // The log is read before down: down removes it.
    await eventually(
      () =>
        Deno.readTextFileSync(`${stateDir}/local.log`).includes(
          "cluster=egress2 src=127.0.0.11:",
        ),
      5000,
    );
    const log = await Deno.readTextFile(`${stateDir}/local.log`);
    assertMatch(
      log,
      /\[wasm debug\] wasmerang: connection \d+ source=127\.0\.0\.11:\d+ destination=127\.0\.0\.1:\d+ -> egress2 \(odd, set_envoy_filter_state Ok\)/,
    );
    const down = await wasmerang(["down", "local"], stateDir);
    assertEquals(down.code, 0, down.stderr);
    assertMatch(down.stdout, /^stopped the local example \(pid \d+/);

    const nothing = await wasmerang(["down", "local"], stateDir);
    assertEquals(nothing.code, 0);
    assertMatch(nothing.stdout, /^nothing to stop/);
    if (await isListening("127.0.0.1", 10000)) {
      console.log(
        "skipped the default-address check: 127.0.0.1:10000 is in use here",
      );
    } else {
      const gone = await wasmerang(["probe", "local"], stateDir);
      assertEquals(gone.code, 2);
      assertMatch(
        gone.stderr.trim(),
        /^wasmerang: nothing answers at 127\.0\.0\.1:10000: start/,
      );
    }
  } finally {
    await wasmerang(["down", "local"], stateDir);
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("bad input to up and probe local: one line, no stack trace, non-zero exit", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "wasmerang-state-" });
  const busy = await startEgress("busy", { host: "127.0.0.1", port: 0 });
  try {
    const cases: [string[], number, RegExp][] = [
      [
        ["up", "local", "--listen", "nope"],
        2,
        /--listen "nope": not an address with a port/,
      ],
      [
        ["up", "local", "--config", "istio", ...FREE],
        2,
        /--config: the local example routes to plain cluster names/,
      ],
      [
        [
          "up",
          "local",
          ...FREE.slice(2),
          "--listen",
          `127.0.0.1:${busy.address.port}`,
        ],
        1,
        /is already in use/,
      ],
      [
        [
          "up",
          "local",
          "--detach",
          ...FREE.slice(2),
          "--listen",
          `127.0.0.1:${busy.address.port}`,
        ],
        1,
        /did not start: .*already in use/,
      ],
      [
        ["probe", "local", "--from", "10.0.0.1"],
        2,
        /--from 10\.0\.0\.1: the local probe binds loopback sources only/,
      ],
      [
        ["probe", "local", "--count", "zero"],
        2,
        /--count "zero": not a whole number/,
      ],
      [
        ["up", "local", "--wasm", "/nonexistent.wasm", ...FREE],
        1,
        /cannot read \/nonexistent\.wasm/,
      ],
    ];
    for (const [args, code, pattern] of cases) {
      const result = await wasmerang(args, stateDir);
      assertEquals(result.code, code, `${args.join(" ")}: ${result.stderr}`);
      const lines = result.stderr.trim().split("\n");
      assertEquals(lines.length, 1, result.stderr);
      assertMatch(lines[0], pattern);
    }
  } finally {
    await busy.close();
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("up local in the foreground shows one decision line per connection; Ctrl-C stops it", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "wasmerang-state-" });
  try {
    const child = cliCommand(["up", "local", ...FREE], {
      stateDir,
      timeoutMs: 60_000,
    }).spawn();
    const stdout = new Response(child.stdout).text();
    const reader = child.stderr.pipeThrough(new TextDecoderStream())
      .getReader();
    let stderr = "";
    while (!/stop: Ctrl-C/.test(stderr)) {
      const { value, done } = await reader.read();
      if (done) break;
      stderr += value;
    }
    const port = Number(stderr.match(/^proxy {3}127\.0\.0\.1:(\d+)/m)![1]);
    const target = { host: "127.0.0.1", port };
    assertEquals(await bannerFrom(target, "127.0.0.10"), "egress1");
    assertEquals(await bannerFrom(target, "127.0.0.11"), "egress2");
    child.kill("SIGINT");
    assertEquals((await child.status).code, 0);
    while (!(await reader.read()).done) {
      // the rest of stderr ("stopped")
    }
    const shown = await stdout;
    for (const [last, egress, side] of [[10, 1, "even"], [11, 2, "odd"]]) {
      const line =
        `[wasm debug] wasmerang: connection N source=127.0.0.${last}:P destination=127.0.0.1:${port} -> egress${egress} (${side}, set_envoy_filter_state Ok)`;
      assert(
        shown.split("\n").some((shownLine) =>
          shownLine.replace(/connection \d+/, "connection N")
            .replace(/(source=[0-9.]+):\d+/, "$1:P") === line
        ),
        `${line} in:\n${shown}`,
      );
    }
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
});
