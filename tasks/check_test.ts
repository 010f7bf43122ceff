import assert from "node:assert/strict";
import { runCli } from "../testing/cli.ts";
import { embeddedFilter } from "../lib/filter_module.ts";
import { renderIstioFiles } from "../environments/istio/files.ts";
import { DEFAULT_SETTINGS } from "../environments/istio/manifests.ts";
import { tempDir } from "../testing/temp.ts";

const EXAMPLE =
  new URL("../examples/envoy-docker/envoy.yaml", import.meta.url).pathname;
const VM_CONFIG =
  "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.config.vm_config";

Deno.test("check passes the committed Docker example", async () => {
  const run = await runCli(["check", "--proto-only", EXAMPLE]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, `✓ ${EXAMPLE}: a valid Envoy bootstrap\n`);
});

Deno.test("check rejects a broken copy with file, line and YAML path; exit 1", async () => {
  const original = await Deno.readTextFile(EXAMPLE);
  const broken = original.replace(
    "runtime: envoy.wasm.runtime.v8",
    "runtime: envoy.wasm.runtime.v9",
  )
    .replace("vm_id: wasmerang", "vmid: wasmerang");
  assert.notEqual(broken, original);
  await using dirTemp = await tempDir();
  const dir = dirTemp.path;
  const file = `${dir}/envoy.yaml`;
  await Deno.writeTextFile(file, broken);
  const lines = broken.split("\n");
  const lineOf = (text: string) =>
    lines.findIndex((line) => line.includes(text)) + 1;
  const run = await runCli(["check", "--proto-only", file, EXAMPLE]);
  assert.equal(run.code, 1);
  assert.equal(
    run.stdout,
    [
      `${file}:${
        lineOf("vmid:")
      }:21: error: ${VM_CONFIG}.vmid: unknown field "vmid" in envoy.extensions.wasm.v3.VmConfig ` +
      `(did you mean "vm_id"?)`,
      `${file}:${
        lineOf("runtime.v9")
      }:21: error: ${VM_CONFIG}.runtime: unknown Wasm runtime "envoy.wasm.runtime.v9" ` +
      "(Envoy knows envoy.wasm.runtime.v8, envoy.wasm.runtime.wamr, envoy.wasm.runtime.wasmtime, " +
      "envoy.wasm.runtime.wavm, envoy.wasm.runtime.null; its official images ship envoy.wasm.runtime.v8)",
      `✗ ${file}: 2 error(s)`,
      `✓ ${EXAMPLE}: a valid Envoy bootstrap`,
      "",
    ].join("\n"),
  );
  assert.match(
    run.stderr,
    /^wasmerang: 1 of 2 file\(s\) would be rejected \(Envoy config checked against the v3 API snapshot in @grpc\/grpc-js-xds@1\.14\.1; a field newer than that snapshot shows as unknown\)\n$/,
  );
});

Deno.test("check --json, and a missing file is a usage error", async () => {
  const json = await runCli(["check", "--proto-only", "--json", EXAMPLE]);
  assert.equal(json.code, 0);
  assert.deepEqual(JSON.parse(json.stdout), {
    api: "@grpc/grpc-js-xds@1.14.1",
    envoy: null,
    files: [{ file: EXAMPLE, kind: "envoy", issues: [] }],
  });
  const missing = await runCli([
    "check",
    "--proto-only",
    "/nonexistent/envoy.yaml",
  ]);
  assert.equal(missing.code, 2);
  assert.equal(
    missing.stderr,
    "wasmerang: cannot read /nonexistent/envoy.yaml: no such file\n",
  );
});

Deno.test("check sends Kubernetes manifests to their schemas, the EnvoyFilter's wasm config to Envoy's", async () => {
  const istio = new URL("../examples/istio-k8s/", import.meta.url).pathname;
  const files = [...Deno.readDirSync(istio)].map((entry) => entry.name).filter((
    name,
  ) => name.endsWith(".yaml"))
    .map((name) => `${istio}${name}`);
  assert.ok(files.some((file) => file.endsWith("wasmplugin.yaml")));
  const good = await runCli(["check", "--proto-only", ...files]);
  assert.equal(good.code, 0, good.stdout + good.stderr);
  assert.equal(
    good.stdout.split("\n").filter((line) =>
      line.endsWith("valid Kubernetes/Istio manifests")
    ).length,
    files.length,
  );

  const original = renderIstioFiles(
    { ...DEFAULT_SETTINGS, api: "envoyfilter" },
    embeddedFilter(),
  ).get("envoyfilter.yaml")!;
  const broken = original.replace(
    "envoy.wasm.runtime.v8",
    "envoy.wasm.runtime.v9",
  );
  assert.notEqual(broken, original);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/envoyfilter.yaml`, broken);
    const bad = await runCli([
      "check",
      "--proto-only",
      `${dir}/envoyfilter.yaml`,
    ]);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stdout,
      /: error: EnvoyFilter [a-z-]+: spec\.configPatches\[0\]\.patch\.value\.typed_config\.config\.vm_config\.runtime: unknown Wasm runtime "envoy\.wasm\.runtime\.v9"/,
    );

    // A WasmPlugin whose pluginConfig the filter would refuse.
    const plugin = (await Deno.readTextFile(`${istio}wasmplugin.yaml`))
      .replace("mode: istio", "mode: mesh");
    await Deno.writeTextFile(`${dir}/wasmplugin.yaml`, plugin);
    const refused = await runCli([
      "check",
      "--proto-only",
      `${dir}/wasmplugin.yaml`,
    ]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stdout,
      /: error: WasmPlugin wasmerang: spec\.pluginConfig: the filter would refuse \{"mode":"mesh","namespace":"default"\}/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("check on the Docker example's compose file: one line naming what to check instead, exit 2", async () => {
  const compose = EXAMPLE.replace(/envoy\.yaml$/, "docker-compose.yaml");
  const run = await runCli(["check", compose]);
  assert.equal(run.code, 2);
  assert.equal(run.stdout, "");
  assert.match(
    run.stderr.trim(),
    /^wasmerang: \S+docker-compose\.yaml is a Docker Compose file, not an Envoy bootstrap or a Kubernetes manifest: check the Envoy configuration it runs \('wasmerang check \S+envoy\.yaml'\)/,
  );
  assert.equal(run.stderr.trim().split("\n").length, 1);
});
