/**
 * The Docker mode through the CLI where no engine is needed: scaffold (and
 * its refusal to overwrite), the `up --dry-run` plan, and what a real engine
 * cannot show: docker missing, the engine down, a refusal before compose runs
 * (a stand-in docker records that it was never called). Everything that
 * needs a running stack is tested on the real engine in
 * environments/docker/engine_test.ts.
 */
import assert from "node:assert/strict";
import { runCli } from "../testing/cli.ts";
import { fakeTools } from "../testing/fake_tools.ts";
import { DOCKER_FILES } from "../environments/docker/scaffold.ts";
import { tempDir } from "../testing/temp.ts";

const EXAMPLE = new URL("../examples/envoy-docker/", import.meta.url);

async function exampleSize(name: string): Promise<number> {
  return (await Deno.stat(new URL(name, EXAMPLE))).size;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test("scaffold docker writes the example, is idempotent, and refuses to overwrite edits", async () => {
  await using dirTemp = await tempDir();
  const dir = `${dirTemp.path}/envoy-docker`;
  const first = await runCli(["scaffold", "docker", "--dir", dir]);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(
    first.stdout.trim().split("\n").map((line) => line.split(/\s+/)[0]),
    [
      "created",
      "created",
      "created",
      "created",
    ],
  );
  for (const name of DOCKER_FILES) {
    assert.deepEqual(
      await Deno.readFile(`${dir}/${name}`),
      await Deno.readFile(new URL(name, EXAMPLE)),
      name,
    );
  }
  assert.match(first.stderr, /passes the Envoy API check/);

  const again = await runCli(["scaffold", "docker", "--dir", dir]);
  assert.equal(again.code, 0);
  assert.match(again.stdout, /^unchanged +.*docker-compose\.yaml/);

  // An edited envoy.yaml and a deleted README: refused, and nothing written at all.
  const edited = (await Deno.readTextFile(`${dir}/envoy.yaml`)).replace(
    "value: standalone",
    "value: istio",
  );
  await Deno.writeTextFile(`${dir}/envoy.yaml`, edited);
  await Deno.remove(`${dir}/README.md`);
  const refused = await runCli(["scaffold", "docker", "--dir", dir]);
  assert.equal(refused.code, 1);
  assert.equal(
    refused.stderr,
    `wasmerang: refusing to overwrite ${dir}/envoy.yaml: it differs from what scaffold docker writes ` +
      "(pass --force to replace, or choose another --dir)\n",
  );
  assert.equal(await Deno.readTextFile(`${dir}/envoy.yaml`), edited);
  assert.equal(await exists(`${dir}/README.md`), false);
  assert.deepEqual(
    [...Deno.readDirSync(dir)].map((entry) => entry.name).sort(),
    [
      "docker-compose.yaml",
      "envoy.yaml",
      "wasmerang.wasm",
    ],
  );

  const forced = await runCli(["scaffold", "docker", "--dir", dir, "--force"]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /replaced +.*envoy\.yaml/);
  assert.match(forced.stdout, /created +.*README\.md/);
  assert.equal(
    await Deno.readTextFile(`${dir}/envoy.yaml`),
    await Deno.readTextFile(new URL("envoy.yaml", EXAMPLE)),
  );
});

Deno.test("scaffold docker rejects a bad --subnet as a usage error, writing nothing", async () => {
  await using dirTemp = await tempDir();
  const dir = `${dirTemp.path}/x`;
  const run = await runCli([
    "scaffold",
    "docker",
    "--dir",
    dir,
    "--subnet",
    "172.21.0.0/33",
  ]);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /invalid --subnet "172.21.0.0\/33"/);
  assert.equal(await exists(dir), false);
});

Deno.test("up docker --dry-run prints the whole plan and touches nothing", async () => {
  await using cwdTemp = await tempDir();
  const cwd = cwdTemp.path;
  await using emptyTemp = await tempDir();
  const empty = emptyTemp.path;
  const run = await runCli(["up", "docker", "--dry-run"], { cwd, path: empty });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(
    run.stdout,
    [
      "# wasmerang up docker --dry-run: the plan; nothing is run or written",
      "# check that docker, docker compose and a running Docker engine are here (as 'wasmerang doctor docker' does)",
      "# write the example (what 'wasmerang scaffold docker --dir envoy-docker' writes):",
      `#   envoy-docker/docker-compose.yaml (${await exampleSize(
        "docker-compose.yaml",
      )} bytes)`,
      `#   envoy-docker/envoy.yaml (${await exampleSize("envoy.yaml")} bytes)`,
      `#   envoy-docker/wasmerang.wasm (${await exampleSize(
        "wasmerang.wasm",
      )} bytes)`,
      `#   envoy-docker/README.md (${await exampleSize("README.md")} bytes)`,
      "# check envoy-docker/envoy.yaml against Envoy's API (as 'wasmerang check' does)",
      "# check that no Docker example from another folder runs (compose project wasmerang) and, unless this example runs already, that 127.0.0.1:10000 and 127.0.0.1:9901 are free",
      "# WASMERANG_FILES_SHA256=<sha256 of envoy.yaml and wasmerang.wasm> docker compose -f envoy-docker/docker-compose.yaml up -d",
      "# (Compose recreates Envoy only when those files differ from what it runs; on failure, what this step started is removed)",
      "# wait until http://127.0.0.1:9901/ready answers 200 (up to 90 s; on failure show the last Envoy log lines)",
      "",
    ].join("\n"),
  );
  assert.deepEqual([...Deno.readDirSync(cwd)], []);

  // With the folder already there, its files are used as they are: no write step.
  const scaffolded = await runCli(["scaffold", "docker"], { cwd });
  assert.equal(scaffolded.code, 0);
  const again = await runCli([
    "up",
    "docker",
    "--dry-run",
    "--ready-timeout",
    "30",
  ], { cwd, path: empty });
  assert.doesNotMatch(again.stdout, /# write/);
  assert.match(
    again.stdout,
    /existing files are used as they are: docker-compose\.yaml, envoy\.yaml, wasmerang\.wasm, README\.md\n/,
  );
  assert.match(again.stdout, /\(up to 30 s;/);
});

Deno.test("up docker without docker stops at once with doctor's hint, before writing anything", async () => {
  await using cwdTemp = await tempDir();
  const cwd = cwdTemp.path;
  await using emptyTemp = await tempDir();
  const empty = emptyTemp.path;
  const run = await runCli(["up", "docker"], { cwd, path: empty });
  assert.equal(run.code, 1);
  assert.equal(
    run.stderr,
    "wasmerang: docker mode needs docker, which is missing (docker not found on PATH): install Docker Engine " +
      "(https://docs.docker.com/engine/install/) or Docker Desktop (also missing: docker compose, docker engine); " +
      "see 'wasmerang doctor docker'\n",
  );
  assert.deepEqual([...Deno.readDirSync(cwd)], []);

  await using noEngine = await fakeTools(["docker"], { engine: false });
  const stopped = await runCli(["up", "docker"], { cwd, path: noEngine.dir });
  assert.equal(stopped.code, 1);
  assert.match(
    stopped.stderr,
    /docker mode needs docker engine, which is missing .*start the Docker daemon/,
  );
  assert.deepEqual([...Deno.readDirSync(cwd)], []);
  assert.doesNotMatch(await Deno.readTextFile(noEngine.calls), /compose .* up/);
});

Deno.test("probe docker without an example folder, and down --dry-run", async () => {
  await using cwdTemp = await tempDir();
  const cwd = cwdTemp.path;
  const probe = await runCli(["probe", "docker"], { cwd });
  assert.equal(probe.code, 2);
  assert.equal(
    probe.stderr,
    "wasmerang: no Docker example in envoy-docker/ (run 'wasmerang up docker')\n",
  );
  const down = await runCli([
    "down",
    "docker",
    "--dry-run",
    "--dir",
    "elsewhere",
  ], { cwd });
  assert.equal(down.code, 0);
  assert.equal(
    down.stdout,
    "# wasmerang down docker --dry-run: the plan; nothing is run\n" +
      "# check that no Docker example from another folder runs (compose project wasmerang)\n" +
      "# remove probe containers left behind, if any: docker ps -aq --filter label=io.wasmerang.probe | xargs -r docker rm -f\n" +
      "docker compose -f elsewhere/docker-compose.yaml down --volumes --remove-orphans\n",
  );
});

Deno.test("up docker refuses an edited envoy.yaml that Envoy would reject, before compose runs", async () => {
  await using cwdTemp = await tempDir();
  const cwd = cwdTemp.path;
  assert.equal((await runCli(["scaffold", "docker"], { cwd })).code, 0);
  const file = `${cwd}/envoy-docker/envoy.yaml`;
  await Deno.writeTextFile(
    file,
    (await Deno.readTextFile(file)).replace("type: STRICT_DNS", "type: STRICT"),
  );
  await using tools = await fakeTools(["docker"]);
  const run = await runCli(["up", "docker"], { cwd, path: tools.dir });
  assert.equal(run.code, 1);
  assert.match(
    run.stderr,
    /envoy-docker\/envoy\.yaml:\d+:7: error: static_resources\.clusters\[0\]\.type: "STRICT" is not a value of envoy\.config\.cluster\.v3\.Cluster\.DiscoveryType/,
  );
  assert.match(
    run.stderr,
    /wasmerang: envoy-docker\/envoy\.yaml does not pass the Envoy API check/,
  );
  assert.doesNotMatch(await Deno.readTextFile(tools.calls), /compose .*up/);
});
