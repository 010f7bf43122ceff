/**
 * How a process is known to be this state directory's example: real
 * processes, /proc, and state files (Linux only).
 */
import { assert, assertEquals } from "../host/testing/assert.ts";
import {
  DETACHED_FLAG,
  findDetached,
  hasPair,
  isRunning,
  parentPid,
  processArgv,
  processStartTime,
  readStateFile,
} from "./state.ts";

const linux = Deno.build.os === "linux";

Deno.test({
  name: "start time is field 22 of /proc/<pid>/stat, read after the last ')'",
  ignore: !linux,
  async fn() {
    // A command name with spaces and parentheses: fields are counted after the last ')'.
    const dir = await Deno.makeTempDir();
    const odd = `${dir}/a) b (c`;
    await Deno.symlink("/bin/sleep", odd);
    const child = new Deno.Command(odd, { args: ["30"] }).spawn();
    try {
      const stat = Deno.readTextFileSync(`/proc/${child.pid}/stat`);
      const expected = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
      assertEquals(processStartTime(child.pid), expected);
      assert(/^\d+$/.test(expected));
      assertEquals(parentPid(child.pid), Deno.pid);
      assertEquals(processArgv(child.pid), [odd, "30"]);
    } finally {
      child.kill("SIGKILL");
      await child.status;
      await Deno.remove(dir, { recursive: true });
    }
    assertEquals(processStartTime(child.pid), undefined);
  },
});

Deno.test({
  name:
    "a process is our example only with our program, `up <mode>` and --detached-in <this state dir>",
  ignore: !linux,
  async fn() {
    const dir = await Deno.makeTempDir();
    const env = Deno.env.get("WASMERANG_STATE_DIR");
    Deno.env.set("WASMERANG_STATE_DIR", dir);
    // Another program naming everything: a shell (not exec'ing its last command).
    const shell = new Deno.Command("sh", {
      args: ["-c", "sleep 30; :", "up", "local", DETACHED_FLAG, dir],
    }).spawn();
    // Our program with `up local` and another state dir.
    const other = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        "await new Promise((done) => setTimeout(done, 30000))",
        "up",
        "local",
        DETACHED_FLAG,
        `${dir}-other`,
      ],
    }).spawn();
    // Our program, this state dir.
    const ours = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        "await new Promise((done) => setTimeout(done, 30000))",
        "up",
        "local",
        DETACHED_FLAG,
        dir,
      ],
    }).spawn();
    try {
      await new Promise((done) => setTimeout(done, 300));
      assert(!isRunning(shell.pid, "local"));
      assert(!isRunning(other.pid, "local"));
      assert(isRunning(ours.pid, "local"));
      assert(!isRunning(ours.pid, "envoy"), "another mode");
      assert(isRunning(ours.pid, "local", processStartTime(ours.pid)));
      assert(!isRunning(ours.pid, "local", "1"), "another start time");
      assertEquals(findDetached("local"), [ours.pid]);
      assertEquals(findDetached("envoy"), []);
    } finally {
      for (const child of [shell, other, ours]) {
        child.kill("SIGKILL");
        await child.status;
      }
      if (env === undefined) Deno.env.delete("WASMERANG_STATE_DIR");
      else Deno.env.set("WASMERANG_STATE_DIR", env);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("readStateFile says missing, unreadable or gives the state", async () => {
  const dir = await Deno.makeTempDir();
  const env = Deno.env.get("WASMERANG_STATE_DIR");
  Deno.env.set("WASMERANG_STATE_DIR", dir);
  try {
    assertEquals(readStateFile("local").problem, "missing");
    await Deno.writeTextFile(`${dir}/local.json`, "{corrupt");
    assertEquals(readStateFile("local").problem, "unreadable");
    await Deno.writeTextFile(`${dir}/local.json`, '{"pid":-1,"listen":"x"}');
    assertEquals(readStateFile("local").problem, "unreadable");
    await Deno.writeTextFile(`${dir}/local.json`, '{"pid":7,"listen":"x"}');
    assertEquals(readStateFile("local").state?.pid, 7);
  } finally {
    if (env === undefined) Deno.env.delete("WASMERANG_STATE_DIR");
    else Deno.env.set("WASMERANG_STATE_DIR", env);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hasPair wants the flag and the value side by side", () => {
  assert(hasPair(["envoy", "-c", "/a/envoy.yaml"], "-c", "/a/envoy.yaml"));
  assert(!hasPair(["tail", "-f", "/a/envoy.yaml"], "-c", "/a/envoy.yaml"));
  assert(!hasPair(["x", "-c", "y", "/a/envoy.yaml"], "-c", "/a/envoy.yaml"));
  assert(!hasPair(["x", "/a/envoy.yaml", "-c"], "-c", "/a/envoy.yaml"));
});
