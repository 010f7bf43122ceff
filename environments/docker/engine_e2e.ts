/**
 * The Docker example on the real engine, as a user runs it: up docker on a
 * fresh folder, probe docker (default sources, --from, --json, both parities),
 * the filter's counters from Envoy's admin and its decision lines from
 * `docker compose logs envoy`, --wasm proven inside the container, an edited
 * envoy.yaml applied by the next up, a second up that restarts nothing,
 * clusters named alpha and beta (routed, judged by the module, a misroute
 * caught), a filter project from `wasmerang new` (`--filter`, its own root id
 * and rule), a taken port refused with nothing left behind, and down twice leaving no
 * container, network or volume. Traffic goes only to loopback and to the
 * containers on the example's own network. Run by `deno task test:e2e`
 * (needs root and testing/docker/setup.sh; skipped with one line elsewhere,
 * a failure in CI).
 */
import { createHash } from "node:crypto";
import {
  assert,
  assertEquals,
  assertMatch,
} from "../../host/testing/assert.ts";
import { runCommand } from "../../lib/commands.ts";
import { type CliRun, runCli } from "../../testing/cli.ts";
import { requireDocker } from "../../testing/docker.ts";
import { tempDir } from "../../testing/temp.ts";
import {
  SIDES_RULE,
  writeFilterProject,
} from "../../testing/filter_project.ts";
import { composeCommand } from "./compose.ts";
import {
  ADMIN_PORT,
  COMPOSE_PROJECT,
  NETWORK_NAME,
  PROBE_LABEL,
} from "./network.ts";

/** The CLI in `cwd`, bounded so that nothing can hang the run. */
function wasmerang(args: string[], cwd: string): Promise<CliRun> {
  return runCli(args, { cwd, timeoutMs: 300_000 });
}

async function lines(argv: string[]): Promise<string[]> {
  const result = await runCommand(argv, { timeoutMs: 60_000 });
  assertEquals(result.code, 0, result.stderr);
  return result.stdout.split("\n").map((line) => line.trim()).filter((line) =>
    line !== ""
  );
}

/** Every container, network and volume of the example (and probe containers). */
async function leftovers(): Promise<string[]> {
  const project = `label=com.docker.compose.project=${COMPOSE_PROJECT}`;
  return [
    ...(await lines(["docker", "ps", "-a", "--filter", project, "-q"])).map((
      id,
    ) => `container ${id}`),
    ...(await lines([
      "docker",
      "ps",
      "-a",
      "--filter",
      `label=${PROBE_LABEL}`,
      "-q",
    ]))
      .map((id) => `probe container ${id}`),
    ...(await lines([
      "docker",
      "network",
      "ls",
      "--filter",
      `name=^${NETWORK_NAME}$`,
      "-q",
    ])).map((id) => `network ${id}`),
    ...(await lines(["docker", "volume", "ls", "--filter", project, "-q"])).map(
      (
        id,
      ) => `volume ${id}`,
    ),
  ];
}

/** When the folder's Envoy container started, as Docker says. */
async function envoyStartedAt(dir: string): Promise<string> {
  const [id] = await lines([...composeCommand(dir), "ps", "-q", "envoy"]);
  assert(id, "Envoy's container runs");
  const [at] = await lines([
    "docker",
    "inspect",
    "--format",
    "{{.State.StartedAt}}",
    id,
  ]);
  return at;
}

/** sha256 of the module as the Envoy container sees it. */
async function moduleInContainer(dir: string): Promise<string> {
  const [id] = await lines([...composeCommand(dir), "ps", "-q", "envoy"]);
  const copy = await Deno.makeTempFile();
  try {
    await lines(["docker", "cp", `${id}:/etc/envoy/wasmerang.wasm`, copy]);
    return createHash("sha256").update(await Deno.readFile(copy)).digest(
      "hex",
    );
  } finally {
    await Deno.remove(copy);
  }
}

/** The root id of the project the --filter step writes with lib/new_project.ts. */
const PROJECT_ROOT = "side-router";

/** That project's rule: even last octet even-side, odd odd-side. */
interface ProbeJson {
  passed: number;
  failed: number;
  results: { source: string; got: string | null; ms: number | null }[];
  counters?: Record<string, number>;
}

if (await requireDocker()) {
  Deno.test({
    name:
      "the Docker example on the real engine: up, probe, counters, logs, --wasm, an edited envoy.yaml, named clusters, --filter, a taken port, down",
    // The example's compose project, network and ports are fixed: one run at a time.
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async (t) => {
      await using work = await tempDir();
      const cwd = work.path;
      const dir = `${cwd}/example`;
      try {
        let startedAt = "";
        await t.step("up docker on a fresh folder", async () => {
          const up = await wasmerang(["up", "docker", "--dir", dir], cwd);
          assertEquals(up.code, 0, up.stderr);
          assertMatch(up.stderr, /Envoy is ready \(started\)/);
          startedAt = await envoyStartedAt(dir);
        });

        await t.step("up docker again restarts nothing", async () => {
          const again = await wasmerang(["up", "docker", "--dir", dir], cwd);
          assertEquals(again.code, 0, again.stderr);
          assertMatch(
            again.stderr,
            /already running these files: left running/,
          );
          assertEquals(await envoyStartedAt(dir), startedAt);
        });

        await t.step(
          "another folder's up and down are refused, naming this one",
          async () => {
            const other = `${cwd}/other`;
            for (const command of ["up", "down"]) {
              if (command === "down") {
                await wasmerang(["scaffold", "docker", "--dir", other], cwd);
              }
              const run = await wasmerang(
                [command, "docker", "--dir", other],
                cwd,
              );
              assertEquals(run.code, 1, run.stderr);
              assertMatch(
                run.stderr,
                new RegExp(
                  `wasmerang: the Docker example of ${dir}/ runs \\(compose project wasmerang\\): stop it first with 'wasmerang down docker --dir ${dir}'`,
                ),
              );
            }
            assertEquals(await envoyStartedAt(dir), startedAt);
          },
        );

        await t.step(
          "probe docker: default sources, then --from and --json; counters and decision lines",
          async () => {
            const table = await wasmerang(
              ["probe", "docker", "--dir", dir],
              cwd,
            );
            assertEquals(table.code, 0, table.stdout + table.stderr);
            assertMatch(
              table.stdout,
              /✓ 4 of 4 connections answered by the expected egress/,
            );
            assertMatch(
              table.stdout,
              /filter counters \(Envoy admin \/stats, since Envoy started\): .*wasmerang\.routed\.egress1=2/,
            );
            const json = await wasmerang([
              "probe",
              "docker",
              "--dir",
              dir,
              "--from",
              "172.21.0.20,172.21.0.21",
              "--json",
            ], cwd);
            assertEquals(json.code, 0, json.stderr);
            const report = JSON.parse(json.stdout) as ProbeJson;
            assertEquals([report.passed, report.failed], [2, 0]);
            assertEquals(report.results.map((result) => result.got), [
              "egress1",
              "egress2",
            ]);
            for (const result of report.results) {
              assert(
                result.ms !== null && result.ms < 5000,
                `${result.source}: the connection was timed (${result.ms})`,
              );
            }
            // 2 + 1 even and 2 + 1 odd sources since Envoy started.
            assertEquals(report.counters?.["wasmerang.routed.egress1"], 3);
            assertEquals(report.counters?.["wasmerang.routed.egress2"], 3);
            // Envoy flushes the access log every 250 ms (the compose file says so).
            let logs = "";
            const deadline = Date.now() + 10_000;
            while (
              !/cluster=egress1 src=172\.21\.0\.20:\d+ .* flags=-/.test(logs) &&
              Date.now() < deadline
            ) {
              const read = await runCommand(
                [...composeCommand(dir), "logs", "--no-color", "envoy"],
                { timeoutMs: 60_000 },
              );
              logs = read.stdout + read.stderr;
            }
            assertMatch(
              logs,
              /wasmerang: connection \d+ source=172\.21\.0\.21:\d+ destination=172\.21\.0\.2:10000 -> egress2 \(odd, set_envoy_filter_state Ok\)/,
            );
            assertMatch(
              logs,
              /cluster=egress1 src=172\.21\.0\.20:\d+ .* flags=-/,
            );
          },
        );

        await t.step(
          "--wasm: Envoy restarts once and runs the given module",
          async () => {
            const module = `${cwd}/debug.wasm`;
            const built = await wasmerang(
              ["build", "--debug", "--out", module],
              cwd,
            );
            assertEquals(built.code, 0, built.stderr);
            const wanted = createHash("sha256").update(
              await Deno.readFile(module),
            )
              .digest("hex");
            assert(
              wanted !== await moduleInContainer(dir),
              "a different module",
            );
            const up = await wasmerang([
              "up",
              "docker",
              "--dir",
              dir,
              "--wasm",
              module,
            ], cwd);
            assertEquals(up.code, 0, up.stderr);
            assertMatch(
              up.stderr,
              /restarted: envoy\.yaml or the module changed/,
            );
            assertEquals(await moduleInContainer(dir), wanted);
            const after = await envoyStartedAt(dir);
            assert(after !== startedAt, "Envoy was restarted");
            startedAt = after;
            const probe = await wasmerang(
              ["probe", "docker", "--dir", dir],
              cwd,
            );
            assertEquals(probe.code, 0, probe.stdout + probe.stderr);
          },
        );

        await t.step(
          "an edited envoy.yaml is applied by the next up",
          async () => {
            const file = `${dir}/envoy.yaml`;
            const original = await Deno.readTextFile(file);
            const swapped = original.replace(
              /value: standalone\n/,
              'value: \'{"clusters":["egress2","egress1"]}\'\n',
            );
            assert(swapped !== original, "the configuration line was found");
            await Deno.writeTextFile(file, swapped);
            const up = await wasmerang(["up", "docker", "--dir", dir], cwd);
            assertEquals(up.code, 0, up.stderr);
            assertMatch(
              up.stderr,
              /restarted: envoy\.yaml or the module changed/,
            );
            const probe = await wasmerang([
              "probe",
              "docker",
              "--dir",
              dir,
              "--from",
              "172.21.0.30,172.21.0.31",
              "--json",
            ], cwd);
            assertEquals(probe.code, 0, probe.stdout + probe.stderr);
            const report = JSON.parse(probe.stdout) as ProbeJson;
            assertEquals(report.results.map((result) => result.got), [
              "egress2",
              "egress1",
            ]);
          },
        );

        await t.step(
          "down docker twice: everything removed, then nothing to remove",
          async () => {
            const down = await wasmerang(["down", "docker", "--dir", dir], cwd);
            assertEquals(down.code, 0, down.stderr);
            assertMatch(
              down.stderr,
              /Removed container \S+, container \S+, container \S+, network wasmerang-docker; the files in/,
            );
            assertEquals(await leftovers(), []);
            const again = await wasmerang(
              ["down", "docker", "--dir", dir],
              cwd,
            );
            assertEquals(again.code, 0, again.stderr);
            assertMatch(
              again.stderr,
              /Nothing of the Docker example was running/,
            );
            assertEquals(await leftovers(), []);
          },
        );

        await t.step(
          "--cluster alpha --cluster beta: one egress each, the flagship configured for them, judged by the module; a misroute caught; down",
          async () => {
            const named = `${cwd}/named`;
            const up = await wasmerang([
              "up",
              "docker",
              "--dir",
              named,
              "--cluster",
              "alpha",
              "--cluster",
              "beta",
              "--config",
              '{"clusters":["alpha","beta"]}',
            ], cwd);
            assertEquals(up.code, 0, up.stderr);
            assertEquals(
              (await lines([
                ...composeCommand(named),
                "ps",
                "--services",
              ])).sort(),
              ["alpha", "beta", "envoy"],
            );
            const probe = await wasmerang(
              ["probe", "docker", "--dir", named, "--json"],
              cwd,
            );
            assertEquals(probe.code, 0, probe.stdout + probe.stderr);
            const report = JSON.parse(probe.stdout) as ProbeJson;
            assertEquals([report.passed, report.failed], [4, 0]);
            assertEquals(report.results.map((result) => result.got), [
              "alpha",
              "beta",
              "alpha",
              "beta",
            ]);
            assertEquals(report.counters?.["wasmerang.routed.alpha"], 2);
            assertEquals(report.counters?.["wasmerang.routed.beta"], 2);

            // Flags that disagree with the folder: one line, exit 2, nothing changed.
            const other = await wasmerang([
              "up",
              "docker",
              "--dir",
              named,
              "--cluster",
              "alpha",
              "--cluster",
              "gamma",
            ], cwd);
            assertEquals(other.code, 2, other.stderr);
            assertMatch(
              other.stderr,
              /^wasmerang: \S+envoy\.yaml has clusters alpha, beta, not what --cluster\/--config ask: .*--force.*\n$/,
            );

            // The egresses answer with each other's names: the module's
            // decisions no longer match who answers, and the probe says so.
            const composeFile = `${named}/docker-compose.yaml`;
            const compose = await Deno.readTextFile(composeFile);
            const swapped = compose.replace("echo alpha;", "echo @;")
              .replace("echo beta;", "echo alpha;").replace(
                "echo @;",
                "echo beta;",
              );
            assert(swapped !== compose, "the egress commands were found");
            await Deno.writeTextFile(composeFile, swapped);
            const again = await wasmerang(
              ["up", "docker", "--dir", named],
              cwd,
            );
            assertEquals(again.code, 0, again.stderr);
            const misrouted = await wasmerang(
              ["probe", "docker", "--dir", named, "--json"],
              cwd,
            );
            assertEquals(
              misrouted.code,
              1,
              misrouted.stdout + misrouted.stderr,
            );
            const wrong = JSON.parse(misrouted.stdout) as ProbeJson;
            assertEquals([wrong.passed, wrong.failed], [0, 4]);
            assertEquals(wrong.results.map((result) => result.got), [
              "beta",
              "alpha",
              "beta",
              "alpha",
            ]);

            const down = await wasmerang(
              ["down", "docker", "--dir", named],
              cwd,
            );
            assertEquals(down.code, 0, down.stderr);
            assertEquals(await leftovers(), []);
          },
        );

        await t.step(
          "up docker --filter DIR: a project from wasmerang new, built, run by Envoy under its root id and judged by its own rule; down",
          async () => {
            const project = `${cwd}/sides`;
            await writeFilterProject(project, PROJECT_ROOT, SIDES_RULE);
            const own = `${cwd}/own`;
            const up = await wasmerang([
              "up",
              "docker",
              "--dir",
              own,
              "--filter",
              project,
              "--cluster",
              "rest",
              "--cluster",
              "even-side",
              "--cluster",
              "odd-side",
            ], cwd);
            assertEquals(up.code, 0, up.stderr);
            assertMatch(up.stderr, /Building the filter project/);
            assertEquals(
              await moduleInContainer(own),
              createHash("sha256").update(
                await Deno.readFile(`${project}/build/filter.wasm`),
              ).digest("hex"),
            );
            const probe = await wasmerang(
              ["probe", "docker", "--dir", own, "--json"],
              cwd,
            );
            assertEquals(probe.code, 0, probe.stdout + probe.stderr);
            const report = JSON.parse(probe.stdout) as ProbeJson & {
              filter: { rootId: string };
            };
            assertEquals(report.filter.rootId, PROJECT_ROOT);
            assertEquals([report.passed, report.failed], [4, 0]);
            assertEquals(report.results.map((result) => result.got), [
              "even-side",
              "odd-side",
              "even-side",
              "odd-side",
            ]);
            const down = await wasmerang(["down", "docker", "--dir", own], cwd);
            assertEquals(down.code, 0, down.stderr);
            assertEquals(await leftovers(), []);
          },
        );

        await t.step(
          "a taken port: one line naming it, nothing started",
          async () => {
            const taken = Deno.listen({
              hostname: "127.0.0.1",
              port: ADMIN_PORT,
            });
            try {
              const up = await wasmerang(["up", "docker", "--dir", dir], cwd);
              assertEquals(up.code, 1);
              assertMatch(
                up.stderr,
                /wasmerang: 127\.0\.0\.1:9901 \(Envoy's admin in the Docker example\) is already in use/,
              );
              assertEquals(await leftovers(), []);
            } finally {
              taken.close();
            }
          },
        );
      } finally {
        await wasmerang(["down", "docker", "--dir", dir], cwd);
        await wasmerang(["down", "docker", "--dir", `${cwd}/named`], cwd);
        await wasmerang(["down", "docker", "--dir", `${cwd}/own`], cwd);
      }
    },
  });
}
