import assert from "node:assert/strict";
import { runCli } from "../testing/cli.ts";
import { fakeTools } from "../testing/fake_tools.ts";
import { tempDir } from "../testing/temp.ts";

Deno.test("doctor docker with a PATH that lacks docker: exit 1, each missing tool with its hint", async () => {
  await using emptyTemp = await tempDir();
  const empty = emptyTemp.path;
  const run = await runCli(["doctor", "docker"], { path: empty });
  assert.equal(run.code, 1);
  assert.match(
    run.stdout,
    /✗ docker: docker not found on PATH\n {2}→ install Docker Engine/,
  );
  assert.match(
    run.stdout,
    /✗ docker compose: docker not found on PATH\n {2}→ install the Compose v2 plugin/,
  );
  // Only what docker mode needs is listed.
  assert.doesNotMatch(run.stdout, /kind|kubectl|istioctl|local mode/);
  assert.match(
    run.stdout,
    /✗ docker mode cannot run: missing docker, docker compose, docker engine\./,
  );
  assert.equal(
    run.stderr.trim(),
    "wasmerang: docker mode needs docker, docker compose, docker engine; missing: docker, docker compose, docker engine",
  );
});

Deno.test("doctor without a mode only reports: exit 0 even with nothing installed", async () => {
  await using emptyTemp = await tempDir();
  const empty = emptyTemp.path;
  const run = await runCli(["doctor"], { path: empty });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /local mode needs nothing else/);
});

Deno.test("doctor istio with every tool present: versions, exit 0; JSON form", async () => {
  await using tools = await fakeTools([
    "docker",
    "kind",
    "kubectl",
    "istioctl",
  ]);
  const run = await runCli(["doctor", "istio", "--json"], { path: tools.dir });
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  assert.equal(report.mode, "istio");
  assert.deepEqual(
    // Envoy is found through $WASMERANG_ENVOY too; environments/envoy/cli_test.ts covers it.
    report.tools.filter((tool: { name: string }) => tool.name !== "envoy").map((
      tool: { name: string; found: boolean; version?: string },
    ) => [tool.name, tool.found, tool.version]),
    [
      ["docker", true, "27.3.1"],
      ["docker engine", true, "27.3.1"],
      ["kind", true, "0.32.0"],
      ["kubectl", true, "1.36.1"],
      ["istioctl", true, "1.31.1"],
    ],
  );
  const table = await runCli(["doctor", "docker"], { path: tools.dir });
  assert.equal(table.code, 0);
  assert.match(table.stdout, /✓ docker mode: everything it needs is here\./);
});

Deno.test("doctor docker with the CLI but no engine or compose plugin says what to do", async () => {
  await using tools = await fakeTools(["docker"], {
    engine: false,
    compose: false,
  });
  const run = await runCli(["doctor", "docker"], { path: tools.dir });
  assert.equal(run.code, 1);
  assert.match(
    run.stdout,
    /✗ docker engine: .*Cannot connect to the Docker daemon\n {2}→ start the Docker daemon/,
  );
  assert.match(
    run.stdout,
    /✗ docker compose: .*'compose' is not a docker command/,
  );
  assert.match(run.stderr, /missing: docker compose, docker engine/);
});

Deno.test("doctor rejects an unknown mode as a usage error", async () => {
  const run = await runCli(["doctor", "kubernetes"]);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /unknown mode "kubernetes"/);
});

Deno.test("doctor local lists no tools: local mode needs none", async () => {
  const empty = await Deno.makeTempDir();
  const run = await runCli(["doctor", "local"], { path: empty });
  assert.equal(run.code, 0, run.stderr);
  assert.doesNotMatch(run.stdout, /docker|kind|kubectl|istioctl/);
  assert.match(run.stdout, /local mode needs nothing else/);
  await Deno.remove(empty);
});
