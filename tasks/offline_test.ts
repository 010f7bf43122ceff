/**
 * After the first run, nothing reaches the network: build, route, check, the
 * local example (up, probe, down), the demo and the setup step itself run in
 * a network namespace that has only loopback. Any download attempt fails the
 * test. Needs root (`ip netns`); elsewhere it is skipped with one line, in CI
 * it fails.
 */
import { assertEquals, assertMatch } from "../host/testing/assert.ts";
import { type CliRun, runCli } from "../testing/cli.ts";
import { tempDir } from "../testing/temp.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/** A network namespace with loopback up and nothing else, or why there is none. */
async function offlineNamespace(): Promise<string | { skip: string }> {
  const name = `wasmerang-offline-${Deno.pid}`;
  const ip = (...args: string[]) =>
    new Deno.Command("ip", { args, stdout: "null", stderr: "piped" }).output()
      .catch((error) => ({
        success: false,
        stderr: new TextEncoder().encode(String(error)),
      }));
  const added = await ip("netns", "add", name);
  if (!added.success) {
    return {
      skip: `no network namespace (${
        new TextDecoder().decode(added.stderr).trim()
      }): run as root with iproute2`,
    };
  }
  await ip("netns", "exec", name, "ip", "link", "set", "lo", "up");
  return name;
}

async function removeNamespace(name: string): Promise<void> {
  await new Deno.Command("ip", { args: ["netns", "delete", name] }).output();
}

/** Fails when a run tried the network (Deno says `Download <url>` first). */
function assertNoDownload(run: CliRun, what: string): void {
  const text = run.stdout + run.stderr;
  const attempt = /Download https?:\S+|registry\.npmjs\.org\S*/.exec(text);
  assertEquals(attempt?.[0], undefined, `${what} reached for the network`);
}

async function denoIn(netns: string, args: string[]): Promise<CliRun> {
  const output = await new Deno.Command("ip", {
    args: ["netns", "exec", netns, Deno.execPath(), ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

Deno.test("with no network: setup, build, route, check, up/probe/down local and the demo", async (t) => {
  const netns = await offlineNamespace();
  if (typeof netns !== "string") {
    if (Deno.env.get("CI") === "true") throw new Error(`CI: ${netns.skip}`);
    console.log(`skipped: ${netns.skip}`);
    return;
  }
  await using dir = await tempDir();
  const cli = (args: string[]) =>
    runCli(args, { netns, stateDir: dir.path, timeoutMs: 120_000 });
  try {
    await t.step("the setup step again (deno task setup)", async () => {
      const run = await denoIn(netns, ["run", "-A", "tasks/setup.ts"]);
      assertNoDownload(run, "setup");
      assertEquals(run.code, 0, run.stderr);
    });
    await t.step("build", async () => {
      const run = await cli(["build", "--out", `${dir.path}/filter.wasm`]);
      assertNoDownload(run, "build");
      assertEquals(run.code, 0, run.stderr);
      assertMatch(run.stdout, /built .*filter\.wasm/);
    });
    await t.step("route", async () => {
      const run = await cli(["route", "10.0.0.2", "10.0.0.3"]);
      assertNoDownload(run, "route");
      assertEquals(run.code, 0, run.stderr);
      assertMatch(run.stdout, /10\.0\.0\.2 → egress1\n10\.0\.0\.3 → egress2/);
    });
    await t.step("check", async () => {
      const run = await cli([
        "check",
        `${ROOT}examples/envoy-docker/envoy.yaml`,
      ]);
      assertNoDownload(run, "check");
      assertEquals(run.code, 0, run.stderr);
    });
    await t.step("up local --detach, probe local, down local", async () => {
      const free = ["127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"];
      const up = await cli([
        "up",
        "local",
        "--detach",
        "--listen",
        free[0],
        "--egress1",
        free[1],
        "--egress2",
        free[2],
      ]);
      assertNoDownload(up, "up local");
      assertEquals(up.code, 0, up.stderr);
      const probe = await cli([
        "probe",
        "local",
        "--from",
        "127.0.0.2,127.0.0.3",
      ]);
      assertNoDownload(probe, "probe local");
      assertEquals(probe.code, 0, probe.stderr);
      const down = await cli(["down", "local"]);
      assertNoDownload(down, "down local");
      assertEquals(down.code, 0, down.stderr);
    });
    await t.step("the demo", async () => {
      const run = await denoIn(netns, ["run", "-A", "tasks/demo.ts"]);
      assertNoDownload(run, "the demo");
      assertEquals(run.code, 0, run.stdout + run.stderr);
      assertMatch(run.stdout, /✓ 8 of 8 connections answered/);
    });
  } finally {
    await cli(["down", "local"]);
    await removeNamespace(netns);
  }
});
