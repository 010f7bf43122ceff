import assert from "node:assert/strict";
import { join } from "node:path";
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
