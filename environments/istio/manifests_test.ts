// deno-lint-ignore-file no-explicit-any -- the tests read into generated manifests as plain JSON
import assert from "node:assert/strict";
import { parse, parseAllDocuments } from "yaml";
import { UserError } from "../../lib/errors.ts";
import { embeddedFilter } from "../../lib/filter_module.ts";
import { checkEnvoyMessage } from "../../checker/envoy_check.ts";
import {
  decideCluster,
  parseFilterConfig,
  ROOT_ID,
} from "../../lib/routing.ts";
import { renderIstioFiles, sha256Hex } from "./files.ts";
import { istioPluginConfigString } from "./sidecar.ts";
import { judgeAll } from "../../lib/judge.ts";
import {
  CLIENT_NAME,
  CONFIGMAP_LIMIT,
  DEFAULT_SETTINGS,
  EGRESS_NAMES,
  filterConfigMap,
  filterConfiguration,
  type IstioSettings,
  WASM_KEY,
  WASM_MOUNT_DIR,
  WASM_PATH,
} from "./manifests.ts";
import {
  clientDeployment,
  clientNetworkPolicy,
  clientSidecar,
  egressDeployment,
  frontService,
} from "./workload_manifests.ts";
import {
  envoyFilter,
  httpOverride,
  httpOverrideTcpProxyConfig,
  wasmPlugin,
  wasmTypedConfig,
} from "./filter_manifests.ts";
import {
  renderManifestIssues,
  validateIstioFiles,
  validateYamlFile,
} from "./validate.ts";

const settings: IstioSettings = { ...DEFAULT_SETTINGS };
const viaEnvoyFilter: IstioSettings = {
  ...DEFAULT_SETTINGS,
  api: "envoyfilter",
};
const demo: IstioSettings = {
  api: "envoyfilter",
  namespace: "demo",
  clusterName: "lab",
  httpOverride: true,
  clusters: ["egress1", "egress2"],
};

Deno.test("every generated manifest validates: both APIs, with and without the HTTP override", () => {
  for (
    const variant of [
      settings,
      viaEnvoyFilter,
      demo,
      { ...demo, api: "wasmplugin" as const },
    ]
  ) {
    const files = renderIstioFiles(variant, embeddedFilter());
    const issues = validateIstioFiles(files);
    assert.equal(
      renderManifestIssues(issues),
      "",
      `issues for ${JSON.stringify(variant)}`,
    );
    const yamlFiles = [...files.keys()].filter((name) =>
      name.endsWith(".yaml")
    );
    assert.equal(yamlFiles.length, variant.httpOverride ? 8 : 7);
    assert.equal(files.has("http-override.yaml"), variant.httpOverride);
    assert.equal(files.has("wasmplugin.yaml"), variant.api === "wasmplugin");
    assert.equal(files.has("envoyfilter.yaml"), variant.api === "envoyfilter");
  }
});

Deno.test("a broken manifest is rejected with the file, the object and the path", () => {
  const files = renderIstioFiles(settings, embeddedFilter());
  const egress = files.get("egress.yaml")!.replace(
    "replicas: 1",
    'replicas: "one"',
  );
  assert.equal(
    renderManifestIssues(validateYamlFile("egress.yaml", egress)),
    "egress.yaml: Deployment egress1: spec.replicas: must be integer",
  );
  const policy = files.get("networkpolicy.yaml")!.replace(
    "- Egress",
    "- Outbound",
  );
  assert.match(
    renderManifestIssues(validateYamlFile("networkpolicy.yaml", policy)),
    /^networkpolicy\.yaml: NetworkPolicy wasmerang-client: spec\.policyTypes\[0\]: must be equal to one of the allowed values/,
  );
  const filter = renderIstioFiles(viaEnvoyFilter, embeddedFilter()).get(
    "envoyfilter.yaml",
  )!.replace(
    "applyTo: NETWORK_FILTER",
    "applyTo: NETWORK_FILTERS",
  );
  assert.match(
    renderManifestIssues(validateYamlFile("envoyfilter.yaml", filter)),
    /envoyfilter\.yaml: EnvoyFilter wasmerang-tcp-routing: spec\.configPatches\[0\]\.applyTo: /,
  );
  const client = files.get("client.yaml")!.replace(
    "- name: client",
    "- namex: client",
  );
  assert.match(
    renderManifestIssues(validateYamlFile("client.yaml", client)),
    /client\.yaml: Deployment wasmerang-client: spec\.template\.spec\.containers\[0\]: must have required property name/,
  );
  const kind = files.get("kind-cluster.yaml")!.replace(
    "role: control-plane",
    "role: master",
  );
  assert.match(
    renderManifestIssues(validateYamlFile("kind-cluster.yaml", kind)),
    /kind-cluster\.yaml: Cluster: nodes\[0\]\.role: must be control-plane or worker/,
  );
  const unparsable = validateYamlFile("sidecar.yaml", "apiVersion: [unclosed");
  assert.equal(unparsable.length, 1);
  assert.equal(unparsable[0].severity, "error");
});

Deno.test("the EnvoyFilter's wasm typed_config passes Envoy's protos, and a broken one does not", () => {
  for (const variant of [settings, demo]) {
    const typed = wasmTypedConfig(variant);
    assert.deepEqual(checkEnvoyMessage(typed["@type"] as string, typed), []);
  }
  const override = httpOverrideTcpProxyConfig(demo);
  assert.deepEqual(
    checkEnvoyMessage(override["@type"] as string, override),
    [],
  );

  const files = renderIstioFiles(viaEnvoyFilter, embeddedFilter());
  const broken = files.get("envoyfilter.yaml")!
    .replace("envoy.wasm.runtime.v8", "envoy.wasm.runtime.v9")
    .replace("vm_id: wasmerang", "vmid: wasmerang");
  const issues = validateYamlFile("envoyfilter.yaml", broken).map((issue) =>
    issue.path
  );
  assert.deepEqual(issues.sort(), [
    "spec.configPatches[0].patch.value.typed_config.config.vm_config.runtime",
    "spec.configPatches[0].patch.value.typed_config.config.vm_config.vmid",
  ]);
  const badType = files.get("envoyfilter.yaml")!.replace(
    "filters.network.wasm.v3.Wasm",
    "filters.network.wasm.v3.Wasn",
  );
  assert.equal(
    validateYamlFile("envoyfilter.yaml", badType).filter((i) =>
      i.severity === "error"
    ).length,
    1,
  );
});

Deno.test("the EnvoyFilter inserts the wasm filter before tcp_proxy, outbound, for the client only", () => {
  const filter = envoyFilter(settings).toJSON() as Record<string, any>;
  assert.equal(filter.apiVersion, "networking.istio.io/v1alpha3");
  const [patch] = filter.spec.configPatches;
  assert.equal(patch.applyTo, "NETWORK_FILTER");
  assert.equal(patch.match.context, "SIDECAR_OUTBOUND");
  assert.equal(
    patch.match.listener.filterChain.filter.name,
    "envoy.filters.network.tcp_proxy",
  );
  assert.equal(patch.patch.operation, "INSERT_BEFORE");
  assert.equal(patch.patch.value.name, "envoy.filters.network.wasm");
  const config = patch.patch.value.typed_config.config;
  assert.equal(config.root_id, ROOT_ID);
  assert.equal(config.vm_config.runtime, "envoy.wasm.runtime.v8");
  assert.equal(config.vm_config.code.local.filename, WASM_PATH);
  assert.deepEqual(config.configuration, {
    "@type": "type.googleapis.com/google.protobuf.StringValue",
    value: "istio",
  });
  // The selector picks the client pods, and only them.
  const client = clientDeployment(settings, "x").toJSON() as Record<
    string,
    any
  >;
  const podLabels = client.spec.template.metadata.labels;
  for (
    const [key, value] of Object.entries(filter.spec.workloadSelector.labels)
  ) {
    assert.equal(podLabels[key], value);
  }
  const egressLabels =
    (egressDeployment(settings, "egress1").toJSON() as Record<string, any>)
      .spec.template.metadata.labels;
  assert.notEqual(egressLabels.app, filter.spec.workloadSelector.labels.app);
});

Deno.test("the client's sidecar mounts the ConfigMap where the EnvoyFilter looks for the module", () => {
  const client = clientDeployment(settings, "abc").toJSON() as Record<
    string,
    any
  >;
  const annotations = client.spec.template.metadata.annotations;
  const volumes = JSON.parse(annotations["sidecar.istio.io/userVolume"]);
  const mounts = JSON.parse(annotations["sidecar.istio.io/userVolumeMount"]);
  const configMap = filterConfigMap(settings, new Uint8Array([0, 97, 115, 109]))
    .toJSON() as Record<string, any>;
  assert.equal(volumes[0].configMap.name, configMap.metadata.name);
  assert.equal(mounts[0].name, volumes[0].name);
  assert.equal(mounts[0].mountPath, WASM_MOUNT_DIR);
  assert.equal(
    `${mounts[0].mountPath}/${Object.keys(configMap.binaryData)[0]}`,
    WASM_PATH,
  );
  assert.equal(configMap.binaryData[WASM_KEY], "AGFzbQ==");
  assert.equal(annotations["wasmerang/filter-sha256"], "abc");
});

Deno.test("routing: the front service selects both egresses; Sidecar and policy cover them", () => {
  const front = frontService(demo).toJSON() as Record<string, any>;
  for (const name of EGRESS_NAMES) {
    const labels =
      (egressDeployment(demo, name).toJSON() as Record<string, any>).spec
        .template.metadata.labels;
    for (const [key, value] of Object.entries(front.spec.selector)) {
      assert.equal(labels[key], value);
    }
  }
  assert.deepEqual(
    front.spec.ports.map((port: { port: number }) => port.port),
    [9000, 80],
  );
  const sidecar = clientSidecar(demo).toJSON() as Record<string, any>;
  assert.deepEqual(sidecar.spec.egress[0].hosts, [
    "demo/egress.demo.svc.cluster.local",
    "demo/egress1.demo.svc.cluster.local",
    "demo/egress2.demo.svc.cluster.local",
    "istio-system/*",
  ]);
  const policy = clientNetworkPolicy(demo).toJSON() as Record<string, any>;
  assert.deepEqual(policy.spec.podSelector.matchLabels, { app: CLIENT_NAME });
  assert.deepEqual(policy.spec.policyTypes, ["Egress"]);
  assert.equal(policy.spec.egress.length, 3);

  // The filter's configuration names the namespace, so the chosen clusters exist.
  const config = parseFilterConfig(filterConfiguration(demo));
  assert.equal(
    decideCluster("10.244.0.6", "10.96.12.34:9000", config),
    "outbound|9000||egress1.demo.svc.cluster.local",
  );
  assert.equal(
    decideCluster("10.244.0.7", "10.96.12.34:80", config),
    "outbound|80||egress2.demo.svc.cluster.local",
  );
  assert.equal(filterConfiguration(viaEnvoyFilter), "istio");
  assert.equal(
    filterConfiguration(settings),
    '{"mode":"istio","namespace":"default"}',
  );
});

Deno.test("the HTTP override inserts the filter, then replaces the HTTP connection manager", () => {
  const override = httpOverride(demo).toJSON() as Record<string, any>;
  const [insert, replace] = override.spec.configPatches;
  for (const patch of [insert, replace]) {
    assert.equal(patch.match.listener.portNumber, 80);
    assert.equal(
      patch.match.listener.filterChain.filter.name,
      "envoy.filters.network.http_connection_manager",
    );
  }
  assert.equal(insert.patch.operation, "INSERT_BEFORE");
  assert.equal(insert.patch.value.name, "envoy.filters.network.wasm");
  assert.equal(replace.patch.operation, "REPLACE");
  assert.equal(
    replace.patch.value.typed_config.cluster,
    "outbound|80||egress.demo.svc.cluster.local",
  );
});

Deno.test("a module too big for a ConfigMap is refused with its size", () => {
  const fits = new Uint8Array(CONFIGMAP_LIMIT - WASM_KEY.length);
  const configMap = filterConfigMap(settings, fits).toJSON() as Record<
    string,
    any
  >;
  assert.equal(configMap.kind, "ConfigMap");
  const tooBig = new Uint8Array(CONFIGMAP_LIMIT - WASM_KEY.length + 1);
  assert.throws(
    () => renderIstioFiles(settings, tooBig),
    (error: unknown) =>
      error instanceof UserError &&
      error.message.includes(`(${tooBig.length} bytes)`) &&
      error.message.includes("1 MiB"),
  );
  // A hand-edited ConfigMap over the limit is caught by validation too.
  const big =
    `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\nbinaryData:\n  a.wasm: ${
      btoa("x".repeat(CONFIGMAP_LIMIT))
    }\n`;
  assert.match(
    renderManifestIssues(validateYamlFile("cm.yaml", big)),
    /binaryData: holds 1048582 bytes/,
  );
});

Deno.test("the files are YAML a kubectl user can read: one header comment, plain documents", () => {
  const files = renderIstioFiles(demo, embeddedFilter());
  for (const [name, text] of files) {
    if (!name.endsWith(".yaml")) continue;
    assert.ok(text.startsWith("# "), `${name} starts with a comment`);
    for (
      const doc of parseAllDocuments(text) as
        & ReturnType<typeof parseAllDocuments>
        & unknown[]
    ) {
      assert.equal(doc.errors.length, 0, name);
    }
  }
  const kind = parse(files.get("kind-cluster.yaml")!);
  assert.deepEqual(kind.nodes, [{
    role: "control-plane",
    image: "kindest/node:v1.36.1",
  }]);
  assert.equal(kind.name, "lab");
  assert.match(
    files.get("README.md")!,
    /--namespace demo --cluster-name lab --http-override/,
  );
});

Deno.test("the WasmPlugin: NETWORK, client outbound on the probe port, the mounted module with its sha256, fail closed", () => {
  const wasm = embeddedFilter();
  const plugin = wasmPlugin(settings, sha256Hex(wasm)).toJSON() as Record<
    string,
    any
  >;
  assert.equal(plugin.apiVersion, "extensions.istio.io/v1alpha1");
  assert.equal(plugin.kind, "WasmPlugin");
  assert.equal(plugin.spec.type, "NETWORK");
  assert.equal(plugin.spec.url, `file://${WASM_PATH}`);
  assert.equal(plugin.spec.sha256, sha256Hex(wasm));
  assert.equal(plugin.spec.pluginName, ROOT_ID);
  assert.equal(plugin.spec.failStrategy, "FAIL_CLOSE");
  assert.deepEqual(plugin.spec.match, [{
    mode: "CLIENT",
    ports: [{ number: 9000 }],
  }]);
  assert.deepEqual(plugin.spec.selector.matchLabels, { app: CLIENT_NAME });
  const withOverride = wasmPlugin(demo, "x").toJSON() as Record<string, any>;
  assert.deepEqual(withOverride.spec.match[0].ports, [{ number: 9000 }, {
    number: 80,
  }]);
  assert.deepEqual(withOverride.spec.pluginConfig, {
    mode: "istio",
    namespace: "demo",
  });
  // With the WasmPlugin placing the filter, the HTTP override only replaces the HCM.
  const override = httpOverride({ ...demo, api: "wasmplugin" })
    .toJSON() as Record<
      string,
      any
    >;
  assert.deepEqual(
    override.spec.configPatches.map((patch: any) => patch.patch.operation),
    ["REPLACE"],
  );
});

Deno.test("Istio hands pluginConfig to the filter as compact JSON with sorted keys, which the filter accepts", () => {
  assert.equal(
    istioPluginConfigString({ namespace: "demo", mode: "istio", port: 9000 }),
    '{"mode":"istio","namespace":"demo","port":9000}',
  );
  assert.equal(
    istioPluginConfigString({ clusters: ["b", "a"], mode: "istio" }),
    '{"clusters":["b","a"],"mode":"istio"}',
  );
  const config = parseFilterConfig(filterConfiguration(demo));
  assert.equal(config.mode, "istio");
  assert.equal(config.namespace, "demo");
});

Deno.test("a WasmPlugin the filter would refuse is caught: HTTP type, another root id, a pluginConfig it rejects", () => {
  const text = renderIstioFiles(settings, embeddedFilter()).get(
    "wasmplugin.yaml",
  )!;
  const check = (from: string, to: string) => {
    const broken = text.replace(from, to);
    assert.notEqual(broken, text);
    return renderManifestIssues(validateYamlFile("wasmplugin.yaml", broken));
  };
  assert.equal(
    renderManifestIssues(validateYamlFile("wasmplugin.yaml", text)),
    "",
  );
  assert.match(
    check("type: NETWORK", "type: HTTP"),
    /wasmplugin\.yaml: WasmPlugin wasmerang: spec\.type: is "HTTP": an HTTP plugin never sees a TCP connection; set type: NETWORK/,
  );
  assert.match(
    check("pluginName: wasmerang", "pluginName: other"),
    /spec\.pluginName: warning: is "other", but the wasmerang filter registers the root id "wasmerang"/,
  );
  assert.match(
    check("mode: istio", "mode: mesh"),
    /spec\.pluginConfig: the filter would refuse \{"mode":"mesh","namespace":"default"\}: invalid configuration/,
  );
  assert.match(
    check(
      "namespace: default\n  phase",
      "namespace: default\n    colour: blue\n  phase",
    ),
    /unknown key "colour"/,
  );
  assert.match(
    check("failStrategy: FAIL_CLOSE", "failStrategy: FAIL_SOMETIMES"),
    /spec\.failStrategy: must be equal to one of the allowed values/,
  );
});

Deno.test("--cluster names: one egress Deployment and Service each, the Sidecar lists them, the filter's configuration carries them, both APIs validate", async () => {
  for (const api of ["wasmplugin", "envoyfilter"] as const) {
    const named: IstioSettings = {
      ...DEFAULT_SETTINGS,
      api,
      namespace: "mesh",
      clusters: ["alpha", "beta", "gamma"],
    };
    const files = renderIstioFiles(named, embeddedFilter());
    assert.deepEqual(
      validateIstioFiles(files).filter((issue) => issue.severity === "error"),
      [],
    );
    const egress = parseAllDocuments(files.get("egress.yaml")!).map((doc) =>
      doc.toJSON()
    );
    assert.deepEqual(
      egress.map((doc) => `${doc.kind} ${doc.metadata.name}`),
      [
        "Deployment alpha",
        "Service alpha",
        "Deployment beta",
        "Service beta",
        "Deployment gamma",
        "Service gamma",
        "Service egress",
      ],
    );
    assert.equal(
      egress[2].spec.template.spec.containers[0].command.at(-1),
      "echo beta; exec cat",
    );
    assert.deepEqual(
      parse(files.get("sidecar.yaml")!.replace(/^#.*\n/gm, "")).spec.egress[0]
        .hosts,
      [
        "mesh/egress.mesh.svc.cluster.local",
        "mesh/alpha.mesh.svc.cluster.local",
        "mesh/beta.mesh.svc.cluster.local",
        "mesh/gamma.mesh.svc.cluster.local",
        "istio-system/*",
      ],
    );
    const configuration = filterConfiguration(named);
    assert.deepEqual(JSON.parse(configuration), {
      clusters: ["alpha", "beta"],
      mode: "istio",
      namespace: "mesh",
    });
    // The flagship, given that configuration, picks alpha and beta.
    const decisions = await judgeAll(
      { wasm: embeddedFilter(), configuration },
      ["10.244.0.6", "10.244.0.7"],
      "10.96.0.10:9000",
    );
    assert.deepEqual(decisions.map((decision) => decision.cluster), [
      "outbound|9000||alpha.mesh.svc.cluster.local",
      "outbound|9000||beta.mesh.svc.cluster.local",
    ]);
    assert.doesNotMatch([...files.values()].join("\n"), /egress1|egress2/);
  }
  // The default names keep the parity example's configuration.
  assert.equal(filterConfiguration(viaEnvoyFilter), "istio");
  assert.equal(
    filterConfiguration(settings),
    '{"mode":"istio","namespace":"default"}',
  );
});
