import assert from "node:assert/strict";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import type { CommandResult, Runner } from "../../lib/commands.ts";
import { exists } from "../../lib/files.ts";
import { moduleSha256 } from "../../lib/judge.ts";
import {
  ISTIO_ALPHA_BETA_RULE,
  writeFilterProject,
} from "../../testing/filter_project.ts";
import { runCli } from "../../testing/cli.ts";
import { tempDir } from "../../testing/temp.ts";
import { probeIstio } from "./pod_probe.ts";
import { folderModule } from "./probe.ts";
import { UserError } from "../../lib/errors.ts";
import { embeddedFilter } from "../../lib/filter_module.ts";
import { renderIstioFiles } from "./files.ts";
import { DEFAULT_SETTINGS } from "./manifests.ts";
import { downIstio } from "./down.ts";
import { scaffoldIstio } from "./scaffold.ts";
import { readScaffoldSettings } from "./settings.ts";
import { upIstio } from "./up.ts";

/** Runs `work` with console.log/error captured and PATH pointing at an empty folder. */
async function quietly<T>(
  work: () => Promise<T>,
  options: { emptyPath?: boolean } = {},
) {
  const out: string[] = [];
  const log = console.log;
  const error = console.error;
  const path = Deno.env.get("PATH");
  const empty = await Deno.makeTempDir();
  console.log = (...args: unknown[]) => out.push(args.join(" "));
  console.error = (...args: unknown[]) => out.push(args.join(" "));
  if (options.emptyPath) Deno.env.set("PATH", empty);
  try {
    return { result: await work(), output: out.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
    if (path !== undefined) Deno.env.set("PATH", path);
    await Deno.remove(empty, { recursive: true });
  }
}

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

Deno.test("scaffold istio writes the rendered files, validated, and is idempotent", async () => {
  const dir = join(await Deno.makeTempDir(), "istio");
  try {
    const { output } = await quietly(() => scaffoldIstio({ dir }));
    const expected = renderIstioFiles(
      { ...DEFAULT_SETTINGS },
      embeddedFilter(),
    );
    assert.deepEqual(await listDir(dir), [...expected.keys()].sort());
    for (const [name, text] of expected) {
      assert.equal(await Deno.readTextFile(join(dir, name)), text, name);
    }
    assert.match(output, /created\s+\S+client\.yaml/);
    assert.match(output, /✓ 7 manifests validated/);
    const again = await quietly(() => scaffoldIstio({ dir }));
    assert.match(again.output, /unchanged\s+\S+wasmplugin\.yaml/);
    assert.doesNotMatch(again.output, /created|replaced/);
    assert.deepEqual(await readScaffoldSettings(dir), { ...DEFAULT_SETTINGS });
  } finally {
    await Deno.remove(join(dir, ".."), { recursive: true });
  }
});

Deno.test("scaffold istio refuses to overwrite an edited file unless --force, and writes nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await quietly(() => scaffoldIstio({ dir }));
    await Deno.writeTextFile(join(dir, "client.yaml"), "# my edit\n");
    const before = await Deno.readTextFile(join(dir, "wasmplugin.yaml"));
    await assert.rejects(
      quietly(() => scaffoldIstio({ dir, namespace: "demo" })),
      (error: unknown) =>
        error instanceof UserError &&
        /refusing to overwrite .*client\.yaml/.test(error.message),
    );
    assert.equal(
      await Deno.readTextFile(join(dir, "client.yaml")),
      "# my edit\n",
    );
    assert.equal(
      await Deno.readTextFile(join(dir, "wasmplugin.yaml")),
      before,
      "nothing half-applied",
    );
    await quietly(() =>
      scaffoldIstio({
        dir,
        namespace: "demo",
        clusterName: "lab",
        httpOverride: true,
        force: true,
      })
    );
    assert.deepEqual(await readScaffoldSettings(dir), {
      api: "wasmplugin",
      namespace: "demo",
      clusterName: "lab",
      httpOverride: true,
      clusters: ["egress1", "egress2"],
    });
    assert.ok(
      (await listDir(dir)).every((name) => !name.includes(".tmp-")),
      "no temporary files left",
    );

    // Dropping --http-override would leave a file `up` applies: refused, then removed with --force.
    await assert.rejects(
      quietly(() =>
        scaffoldIstio({ dir, namespace: "demo", clusterName: "lab" })
      ),
      /refusing to leave .*http-override\.yaml/,
    );
    await quietly(() =>
      scaffoldIstio({ dir, namespace: "demo", clusterName: "lab", force: true })
    );
    assert.ok(!(await listDir(dir)).includes("http-override.yaml"));

    // Switching the API would leave the other variant's file: refused, then replaced with --force.
    const switched = { dir, namespace: "demo", clusterName: "lab" };
    await assert.rejects(
      quietly(() => scaffoldIstio({ ...switched, api: "envoyfilter" })),
      /refusing to leave .*wasmplugin\.yaml .*--api wasmplugin to keep it/,
    );
    await quietly(() =>
      scaffoldIstio({ ...switched, api: "envoyfilter", force: true })
    );
    const names = await listDir(dir);
    assert.ok(
      names.includes("envoyfilter.yaml") && !names.includes("wasmplugin.yaml"),
    );
    assert.equal((await readScaffoldSettings(dir))?.api, "envoyfilter");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scaffold istio rejects bad names as usage errors", async () => {
  await assert.rejects(
    scaffoldIstio({ dir: "/nonexistent/never", namespace: "Bad_NS" }),
    (error: unknown) =>
      error instanceof UserError && error.exitCode === 2 &&
      /invalid namespace "Bad_NS"/.test(error.message),
  );
});

Deno.test("up istio without kind, kubectl, istioctl or docker stops before doing anything, with the hint", async () => {
  const root = await Deno.makeTempDir();
  const dir = join(root, "istio");
  try {
    await assert.rejects(
      quietly(() => upIstio({ dir }), { emptyPath: true }),
      (error: unknown) =>
        error instanceof UserError && error.exitCode === 1 &&
        /^istio mode needs docker, which is missing .*install Docker Engine.*also missing: .*kind, kubectl, istioctl/
          .test(error.message),
    );
    assert.deepEqual(await listDir(root), [], "nothing written");
    await assert.rejects(
      quietly(() => downIstio({}), { emptyPath: true }),
      /down istio needs kind and kubectl, missing: kind: go install sigs\.k8s\.io\/kind@v0\.32\.0/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("up istio --dry-run prints the whole plan for a new cluster and writes nothing", async () => {
  const root = await Deno.makeTempDir();
  const dir = join(root, "istio");
  try {
    const { output } = await quietly(
      () => upIstio({ dir, dryRun: true, namespace: "demo" }),
      { emptyPath: true },
    );
    const lines = output.split("\n");
    assert.match(
      lines[0],
      /^# wasmerang up istio --dir .*istio \(dry run: nothing is run or written\)$/,
    );
    assert.match(
      lines[1],
      /^# missing docker, docker engine, kind, kubectl, istioctl: a real run stops here/,
    );
    assert.equal(
      lines[2],
      `# write the example first: wasmerang scaffold istio --dir ${dir}`,
    );
    assert.equal(
      lines[3],
      "# the filter is installed with a WasmPlugin (wasmplugin.yaml)",
    );
    assert.equal(
      lines[4],
      `kind create cluster --name wasmerang --config ${dir}/kind-cluster.yaml --wait 120s`,
    );
    assert.ok(
      lines.includes("kubectl --context kind-wasmerang create namespace demo"),
    );
    assert.equal(
      lines.at(-1),
      "kubectl --context kind-wasmerang -n demo rollout status deployment/wasmerang-client --timeout=300s",
    );
    assert.deepEqual(await listDir(root), []);

    // With a scaffolded folder, the plan takes the folder's settings.
    await quietly(() =>
      scaffoldIstio({ dir, clusterName: "lab", httpOverride: true })
    );
    const second = await quietly(() => upIstio({ dir, dryRun: true }), {
      emptyPath: true,
    });
    assert.doesNotMatch(second.output, /write the example first/);
    assert.match(second.output, /kind create cluster --name lab /);
    assert.match(second.output, /-f \S+http-override\.yaml/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("scaffold|up istio --filter DIR: the project's module in the ConfigMap, its root id in the WasmPlugin and the EnvoyFilter, judged by them; the usage mistakes; a dry run writes nothing", async (t) => {
  const ROOT = "mesh-sides";
  await using temp = await tempDir();
  const project = join(temp.path, "sides");
  await writeFilterProject(project, ROOT, ISTIO_ALPHA_BETA_RULE);
  const output = join(project, "build/filter.wasm");
  const clusters = ["--cluster", "alpha", "--cluster", "beta"];
  const oneLine = (run: { code: number; stderr: string }, code: number) => {
    assert.equal(run.code, code, run.stderr);
    const lines = run.stderr.trim().split("\n");
    assert.equal(lines.length, 1, run.stderr);
    return lines[0];
  };
  const docs = async (file: string) =>
    parseAllDocuments(await Deno.readTextFile(file)).map((doc) => doc.toJSON());

  for (const api of ["wasmplugin", "envoyfilter"]) {
    await t.step(
      `scaffold istio --api ${api} --filter: the module and its root id; probe judges by them`,
      async () => {
        const dir = join(temp.path, api);
        const run = await runCli([
          "scaffold",
          "istio",
          "--dir",
          dir,
          "--api",
          api,
          "--filter",
          project,
          ...clusters,
        ]);
        assert.equal(run.code, 0, run.stderr);
        // Built by the first scaffold only.
        if (api === "wasmplugin") {
          assert.match(run.stderr, /Building the filter project/);
        } else assert.doesNotMatch(run.stderr, /Building/);
        const inFolder = await folderModule(dir);
        assert.equal(
          moduleSha256(inFolder!.wasm),
          moduleSha256(await Deno.readFile(output)),
        );
        if (api === "wasmplugin") {
          const [plugin] = await docs(join(dir, "wasmplugin.yaml"));
          assert.equal(plugin.spec.pluginName, ROOT);
        } else {
          const [filter] = await docs(join(dir, "envoyfilter.yaml"));
          const config = filter.spec.configPatches[0].patch.value.typed_config
            .config;
          assert.deepEqual(
            [config.name, config.root_id, config.vm_config.vm_id],
            [ROOT, ROOT, ROOT],
          );
        }
        const settings = await readScaffoldSettings(dir);
        assert.equal(settings?.rootId, ROOT);
        assert.deepEqual(settings?.clusters, ["alpha", "beta"]);
        // probe istio: the folder's module under the folder's root id.
        const pods = [
          { name: "client-a", ip: "10.244.0.10" },
          { name: "client-b", ip: "10.244.0.11" },
        ];
        const report = await probeIstio(
          settings!,
          { count: 2, filter: inFolder },
          fakeKubectl(pods, { "client-a": "alpha\n", "client-b": "beta\n" }),
        );
        assert.equal(report.filter?.rootId, ROOT);
        assert.deepEqual(
          report.results.map((result) => [result.chosen, result.ok]),
          [
            ["outbound|9000||alpha.default.svc.cluster.local", true],
            ["outbound|9000||beta.default.svc.cluster.local", true],
          ],
        );
        // up on that folder: its module and root id as they are; another root id is refused.
        const up = await runCli(["up", "istio", "--dry-run", "--dir", dir], {
          path: temp.path,
        });
        assert.equal(up.code, 0, up.stderr);
        assert.match(
          up.stdout,
          new RegExp(
            `^# filter .*\\(wasmerang\\.wasm\\) \\(sha256 [0-9a-f]{12}…\\), root id ${ROOT},`,
            "m",
          ),
        );
        assert.match(
          oneLine(
            await runCli([
              "up",
              "istio",
              "--dry-run",
              "--dir",
              dir,
              "--root-id",
              "wasmerang",
            ], { path: temp.path }),
            2,
          ),
          new RegExp(
            `holds the example with the filter under root id "${ROOT}", not what --root-id asks \\("wasmerang"\\)`,
          ),
        );
        assert.match(
          oneLine(
            await runCli([
              "up",
              "istio",
              "--dry-run",
              "--dir",
              dir,
              "--filter",
              project,
            ], { path: temp.path }),
            2,
          ),
          /already holds the example and its ConfigMap: put the module in it with 'wasmerang scaffold istio --dir .* --filter .*sides --force'/,
        );
      },
    );
  }

  await t.step(
    "usage mistakes and a root id the module does not register: one line, nothing written",
    async () => {
      const elsewhere = join(temp.path, "elsewhere");
      for (
        const command of [["scaffold", "istio"], ["up", "istio", "--dry-run"]]
      ) {
        assert.match(
          oneLine(
            await runCli([
              ...command,
              "--dir",
              elsewhere,
              "--filter",
              project,
              "--wasm",
              output,
            ], { path: temp.path }),
            2,
          ),
          /^wasmerang: --filter and --wasm both name the module: give one/,
        );
      }
      assert.match(
        oneLine(
          await runCli([
            "scaffold",
            "istio",
            "--dir",
            elsewhere,
            "--filter",
            project,
            "--root-id",
            "not-ours",
          ]),
          1,
        ),
        /^wasmerang: refusing to ship .*filter\.wasm: the filter registers no root context named "not-ours"/,
      );
      assert.equal(await exists(elsewhere), false);
    },
  );

  await t.step(
    "up istio --dry-run --filter with a stale project: compiled in memory, nothing written",
    async () => {
      const built = (await Deno.stat(output)).mtime?.getTime();
      const later = new Date((built ?? 0) + 60_000);
      await Deno.utime(join(project, "assembly/decide.ts"), later, later);
      const fresh = join(temp.path, "fresh");
      const run = await runCli([
        "up",
        "istio",
        "--dry-run",
        "--dir",
        fresh,
        "--filter",
        project,
        ...clusters,
      ], { path: temp.path });
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /Compiling \(in memory, for the dry run\)/);
      assert.match(
        run.stdout,
        new RegExp(
          `^# write the example first: wasmerang scaffold istio --dir \\S+fresh --filter \\S+sides$`,
          "m",
        ),
      );
      assert.match(
        run.stdout,
        new RegExp(`^# filter .*, root id ${ROOT},`, "m"),
      );
      assert.equal(await exists(fresh), false);
      assert.equal((await Deno.stat(output)).mtime?.getTime(), built);
    },
  );
});

/** A stand-in kubectl for probeIstio: ready client pods with sidecars, `nc` answered per pod. */
function fakeKubectl(
  pods: { name: string; ip: string }[],
  answers: Record<string, string>,
): Runner {
  const ok = (stdout: string): CommandResult => ({
    code: 0,
    stdout,
    stderr: "",
    timedOut: false,
  });
  return (argv: string[]) => {
    if (argv.includes("pods")) {
      return Promise.resolve(ok(JSON.stringify({
        items: pods.map((pod) => ({
          metadata: { name: pod.name },
          spec: { containers: [{ name: "client" }, { name: "istio-proxy" }] },
          status: {
            phase: "Running",
            podIP: pod.ip,
            containerStatuses: [{ ready: true }],
          },
        })),
      })));
    }
    if (argv.includes("service")) {
      return Promise.resolve(
        ok(JSON.stringify({ spec: { clusterIP: "10.96.40.2" } })),
      );
    }
    return Promise.resolve(ok(answers[argv[argv.indexOf("exec") + 1]] ?? ""));
  };
}
