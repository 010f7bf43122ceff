/**
 * `down envoy` stops only what this state directory started, against a real
 * Envoy: `tail -f` on the bootstrap and a look-alike with `-c <bootstrap>`
 * in its argv (not the Envoy binary) survive; a corrupt state file still
 * finds the example and its Envoy; `down` leaves the state folder empty;
 * `--dry-run` does nothing.
 */
import {
  assert,
  assertEquals,
  assertMatch,
} from "../../host/testing/assert.ts";
import { runCli } from "../../testing/cli.ts";
import { testEnvoy } from "../../testing/envoy.ts";
import { tempDir } from "../../testing/temp.ts";
import { isAlive } from "../../lib/state.ts";

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

function wasmerang(args: string[], stateDir: string) {
  return runCli(args, {
    stateDir,
    env: { WASMERANG_ENVOY: envoy?.path ?? "" },
    timeoutMs: 90_000,
  });
}

async function upDetached(stateDir: string) {
  const up = await wasmerang(["up", "envoy", "--detach", ...FREE], stateDir);
  assertEquals(up.code, 0, up.stderr);
  return JSON.parse(Deno.readTextFileSync(`${stateDir}/envoy.json`)) as {
    pid: number;
    envoyPid: number;
    listen: string;
  };
}

Deno.test({
  name:
    "down envoy spares tail -f and look-alikes on the bootstrap; a corrupt state file still stops the example and its Envoy; --dry-run does nothing",
  ignore: envoy === undefined || Deno.build.os !== "linux",
  async fn() {
    await using dir = await tempDir("wasmerang-envoy-down-");
    const bootstrap = `${dir.path}/envoy/envoy.yaml`;
    const children: Deno.ChildProcess[] = [];
    try {
      const state = await upDetached(dir.path);
      const spawn = (command: string, args: string[]) => {
        const child = new Deno.Command(command, {
          args,
          stdin: "null",
          stdout: "null",
          stderr: "null",
        }).spawn();
        children.push(child);
        return child.pid;
      };
      const bystanders = [
        spawn("tail", ["-f", bootstrap]),
        // Not Envoy, though its argv has `-c <bootstrap>` and `up envoy`.
        spawn("sh", ["-c", "sleep 120; :", "up", "envoy", "-c", bootstrap]),
      ];

      const dry = await wasmerang(["down", "envoy", "--dry-run"], dir.path);
      assertEquals(dry.code, 0, dry.stderr);
      assertMatch(
        dry.stdout,
        new RegExp(
          `^would stop the envoy example \\(pid ${state.pid}, ${state.listen}\\): SIGTERM, then SIGKILL after 10 s\nwould stop the example's Envoy \\(pid ${state.envoyPid}\\) if still running then`,
        ),
      );
      assert(isAlive(state.pid) && isAlive(state.envoyPid));

      Deno.writeTextFileSync(`${dir.path}/envoy.json`, "{corrupt");
      const down = await wasmerang(["down", "envoy"], dir.path);
      assertEquals(down.code, 0, down.stderr);
      assertMatch(
        down.stdout,
        new RegExp(
          `^stopped the envoy example \\(pid ${state.pid}, found by its command line: .*envoy\\.json is unreadable \\(not JSON\\)\\)\n`,
        ),
      );
      assert(!isAlive(state.pid), "the background process stopped");
      assert(!isAlive(state.envoyPid), "its Envoy stopped");
      for (const pid of bystanders) assert(isAlive(pid), `bystander ${pid}`);
      assertEquals([...Deno.readDirSync(dir.path)], []);

      // No example at all: the bystanders are still no Envoy of ours.
      Deno.mkdirSync(`${dir.path}/envoy`);
      Deno.writeTextFileSync(bootstrap, "# not a bootstrap\n");
      const nothing = await wasmerang(["down", "envoy"], dir.path);
      assertEquals(nothing.code, 0, nothing.stderr);
      assertMatch(nothing.stdout, /^nothing to stop/);
      for (const pid of bystanders) assert(isAlive(pid), `bystander ${pid}`);
    } finally {
      for (const child of children) {
        child.kill("SIGKILL");
        await child.status;
      }
      await wasmerang(["down", "envoy"], dir.path);
    }
  },
});

Deno.test({
  name: "up envoy --dry-run writes and starts nothing",
  ignore: envoy === undefined,
  async fn() {
    await using dir = await tempDir("wasmerang-envoy-down-");
    for (const detach of [[], ["--detach"]]) {
      const dry = await wasmerang(
        ["up", "envoy", ...detach, "--dry-run", ...FREE],
        dir.path,
      );
      assertEquals(dry.code, 0, dry.stderr);
      assertMatch(dry.stdout, /^dry run: would write .*envoy\.yaml/);
      assertMatch(dry.stdout, /nothing was started or written\n$/);
      assertEquals([...Deno.readDirSync(dir.path)], []);
    }
    const foreign = await wasmerang(
      ["up", "envoy", "--dir", "x", ...FREE],
      dir.path,
    );
    assertEquals(foreign.code, 2);
    assertEquals(
      foreign.stderr.trim(),
      "wasmerang: up envoy does not take --dir (it takes: --listen, --admin, --egress1, --egress2, --cluster, --config, --wasm, --filter, --root-id, --envoy, --detach, --dry-run)",
    );
  },
});
