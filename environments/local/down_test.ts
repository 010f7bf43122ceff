/**
 * `down local` stops only this state directory's example (real processes,
 * real state files): bystanders whose command lines mention `up local` or the
 * state folder, a recorded pid that is not ours, another state directory's
 * example. A corrupt or missing state file still finds the example. `down`
 * leaves the state folder empty; `--dry-run` does nothing; other modes'
 * flags are refused.
 */
import {
  assert,
  assertEquals,
  assertMatch,
} from "../../host/testing/assert.ts";
import { runCli } from "../../testing/cli.ts";
import { tempDir } from "../../testing/temp.ts";
import { isAlive, processStartTime } from "../../lib/state.ts";

const FREE = [
  "--listen",
  "127.0.0.1:0",
  "--egress1",
  "127.0.0.1:0",
  "--egress2",
  "127.0.0.1:0",
];

function wasmerang(args: string[], stateDir: string) {
  return runCli(args, { stateDir, timeoutMs: 60_000 });
}

/** Running (a zombie waiting for its parent to reap it is not). */
function alive(pid: number): boolean {
  return isAlive(pid);
}

/** `up local --detach` on free ports; the background process's pid and state. */
async function upDetached(stateDir: string) {
  const up = await wasmerang(["up", "local", "--detach", ...FREE], stateDir);
  assertEquals(up.code, 0, up.stderr);
  const state = JSON.parse(Deno.readTextFileSync(`${stateDir}/local.json`));
  assert(alive(state.pid));
  return state as { pid: number; listen: string; startTime: string };
}

/** Nothing accepts connections at `address` any more. */
async function closed(address: string): Promise<boolean> {
  const [host, port] = address.split(":");
  try {
    const connection = await Deno.connect({ hostname: host, port: +port });
    connection.close();
    return false;
  } catch {
    return true;
  }
}

/** Processes that are not ours but look like it; killed when disposed. */
function bystanders(stateDir: string) {
  const spawn = (command: string, args: string[]) =>
    new Deno.Command(command, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
  const children = [
    // A `sleep` whose argv holds `up local` and the marker with this state dir.
    spawn("sh", [
      "-c",
      "sleep 120; :",
      "up",
      "local",
      "--detached-in",
      stateDir,
    ]),
    // Someone reading the log and the state file.
    spawn("tail", ["-f", `${stateDir}/local.json`, `${stateDir}/local.log`]),
  ];
  return {
    pids: children.map((child) => child.pid),
    async [Symbol.asyncDispose]() {
      for (const child of children) {
        try {
          child.kill("SIGKILL");
        } catch {
          // Already gone (a failed assertion says so).
        }
        await child.status;
      }
    },
  };
}

Deno.test({
  name:
    "down local stops its example, spares look-alikes, and leaves the state folder empty",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using dir = await tempDir("wasmerang-down-");
    try {
      const state = await upDetached(dir.path);
      await using others = bystanders(dir.path);
      const down = await wasmerang(["down", "local"], dir.path);
      assertEquals(down.code, 0, down.stderr);
      assertMatch(
        down.stdout,
        new RegExp(
          `^stopped the local example \\(pid ${state.pid}, ${state.listen}\\)\nremoved .*local\\.log\n$`,
        ),
      );
      assert(!alive(state.pid));
      assert(await closed(state.listen));
      for (const pid of others.pids) assert(alive(pid), `bystander ${pid}`);
      assertEquals([...Deno.readDirSync(dir.path)], []);
      const again = await wasmerang(["down", "local"], dir.path);
      assertEquals(again.code, 0);
      assertMatch(again.stdout, /^nothing to stop/);
      for (const pid of others.pids) assert(alive(pid), `bystander ${pid}`);
    } finally {
      await wasmerang(["down", "local"], dir.path);
    }
  },
});

Deno.test({
  name:
    "a recorded pid that is not ours is left alone: an unrelated process, a wrong start time, another state folder's example",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using dir = await tempDir("wasmerang-down-");
    await using elsewhere = await tempDir("wasmerang-down-other-");
    const sleeper = new Deno.Command("sleep", { args: ["120"] }).spawn();
    try {
      const other = await upDetached(elsewhere.path);
      const record = (pid: number, startTime: string | undefined) =>
        Deno.writeTextFileSync(
          `${dir.path}/local.json`,
          JSON.stringify({
            pid,
            startTime,
            listen: "127.0.0.1:1",
            egress: {},
            config: "standalone",
            logFile: `${dir.path}/local.log`,
            startedAt: new Date().toISOString(),
          }),
        );
      const cases: [string, number, string | undefined][] = [
        [
          "unrelated, its own start time",
          sleeper.pid,
          processStartTime(sleeper.pid),
        ],
        ["unrelated, wrong start time", sleeper.pid, "1"],
        ["unrelated, no start time", sleeper.pid, undefined],
        ["another folder's example", other.pid, other.startTime],
      ];
      for (const [what, pid, startTime] of cases) {
        record(pid, startTime);
        const dry = await wasmerang(["down", "local", "--dry-run"], dir.path);
        assertEquals(dry.code, 0, dry.stderr);
        assert(/^nothing to stop/.test(dry.stdout), `${what}: ${dry.stdout}`);
        const down = await wasmerang(["down", "local"], dir.path);
        assertEquals(down.code, 0, `${what}: ${down.stderr}`);
        assertMatch(
          down.stdout,
          new RegExp(
            `^the local example \\(pid ${pid}\\) was not running; removed its state`,
          ),
        );
        assert(alive(sleeper.pid), what);
        assert(alive(other.pid), what);
        assert(!(await closed(other.listen)), what);
      }
      // up is not refused by a recorded pid that is not ours either.
      record(sleeper.pid, processStartTime(sleeper.pid));
      const dry = await wasmerang(["up", "local", "--dry-run"], dir.path);
      assertEquals(dry.code, 0, dry.stderr);
    } finally {
      sleeper.kill("SIGKILL");
      await sleeper.status;
      await wasmerang(["down", "local"], elsewhere.path);
      await wasmerang(["down", "local"], dir.path);
    }
  },
});

Deno.test({
  name:
    "a corrupt or missing state file: down local still finds and stops the example; up refuses a second one",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using dir = await tempDir("wasmerang-down-");
    try {
      for (const damage of ["corrupt", "missing"]) {
        const state = await upDetached(dir.path);
        if (damage === "corrupt") {
          Deno.writeTextFileSync(`${dir.path}/local.json`, "{corrupt");
        } else Deno.removeSync(`${dir.path}/local.json`);
        const second = await wasmerang(
          ["up", "local", "--detach", ...FREE],
          dir.path,
        );
        assertEquals(second.code, 1, damage);
        assertEquals(
          second.stderr.trim(),
          `wasmerang: a local example is already running (pid ${state.pid}; its state file ${dir.path}/local.json is missing or unreadable): stop it with 'wasmerang down local'`,
        );
        const probe = await wasmerang(["probe", "local"], dir.path);
        if (damage === "corrupt") {
          assertEquals(probe.code, 2);
          assertEquals(
            probe.stderr.trim(),
            `wasmerang: ${dir.path}/local.json is unreadable (not JSON): give the address with --to, or stop the example with 'wasmerang down local'`,
          );
        }
        const down = await wasmerang(["down", "local"], dir.path);
        assertEquals(down.code, 0, down.stderr);
        assertMatch(
          down.stdout,
          new RegExp(
            `^stopped the local example \\(pid ${state.pid}, found by its command line: `,
          ),
        );
        assert(!alive(state.pid), damage);
        assert(await closed(state.listen), damage);
        assertEquals([...Deno.readDirSync(dir.path)], [], damage);
      }
    } finally {
      await wasmerang(["down", "local"], dir.path);
    }
  },
});

Deno.test({
  name:
    "--dry-run runs nothing: up local starts nothing, down local stops and removes nothing",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using dir = await tempDir("wasmerang-down-");
    try {
      for (const detach of [[], ["--detach"]]) {
        const dry = await wasmerang(
          ["up", "local", ...detach, "--dry-run", ...FREE],
          dir.path,
        );
        assertEquals(dry.code, 0, dry.stderr);
        assertMatch(dry.stdout, /^dry run: would start the local example /);
        assertMatch(dry.stdout, /nothing was started or written\n$/);
        assertEquals([...Deno.readDirSync(dir.path)], []);
      }
      const state = await upDetached(dir.path);
      const dry = await wasmerang(["down", "local", "--dry-run"], dir.path);
      assertEquals(dry.code, 0, dry.stderr);
      assertMatch(
        dry.stdout,
        new RegExp(
          `^would stop the local example \\(pid ${state.pid}, ${state.listen}\\): SIGTERM, then SIGKILL after 10 s\nwould remove .*local\\.json, .*local\\.log\n$`,
        ),
      );
      assert(alive(state.pid));
      assert(!(await closed(state.listen)));
      assertEquals(
        [...Deno.readDirSync(dir.path)].map((entry) => entry.name).sort(),
        ["local.json", "local.log"],
      );
    } finally {
      await wasmerang(["down", "local"], dir.path);
    }
  },
});

Deno.test({
  name:
    "probe local after the example was killed names its address; flags of other modes are usage errors",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using dir = await tempDir("wasmerang-down-");
    try {
      const state = await upDetached(dir.path);
      Deno.kill(state.pid, "SIGKILL");
      while (alive(state.pid)) {
        await new Promise((done) => setTimeout(done, 50));
      }
      const probe = await wasmerang(["probe", "local"], dir.path);
      assertEquals(probe.code, 2);
      assertEquals(
        probe.stderr.trim(),
        `wasmerang: the local example is not running: the local example on ${state.listen} is gone (its pid ${state.pid} no longer runs it); its log: ${dir.path}/local.log; 'wasmerang down local' clears its state, 'wasmerang up local --detach' starts it again`,
      );
      const cases: [string[], RegExp][] = [
        [
          ["down", "local", "--dir", "x"],
          /^wasmerang: down local does not take --dir \(it takes: --dry-run\)$/,
        ],
        [
          ["down", "local", "--cluster"],
          /^wasmerang: down local does not take --cluster /,
        ],
        [
          ["up", "local", "--namespace", "x", "--ready-timeout", "3"],
          /^wasmerang: up local does not take --namespace \(it takes: --listen, /,
        ],
        [
          ["up", "local", "--admin", "127.0.0.1:0"],
          /^wasmerang: up local does not take --admin /,
        ],
        [
          ["probe", "local", "--port", "80"],
          /^wasmerang: probe local does not take --port /,
        ],
        [
          ["probe", "local", "--admin", "127.0.0.1:1"],
          /^wasmerang: probe local does not take --admin /,
        ],
        [
          ["up", "local", "--detached-in", dir.path],
          /^wasmerang: --detached-in: only the background process/,
        ],
      ];
      for (const [args, pattern] of cases) {
        const run = await wasmerang(args, dir.path);
        assertEquals(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
        const lines = run.stderr.trim().split("\n");
        assertEquals(lines.length, 1, run.stderr);
        assertMatch(lines[0], pattern);
      }
      const down = await wasmerang(["down", "local"], dir.path);
      assertMatch(
        down.stdout,
        /^the local example \(pid \d+\) was not running/,
      );
      assertEquals([...Deno.readDirSync(dir.path)], []);
    } finally {
      await wasmerang(["down", "local"], dir.path);
    }
  },
});
