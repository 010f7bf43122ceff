import assert from "node:assert/strict";
import type { CommandResult } from "../../lib/commands.ts";
import { DEFAULT_SETTINGS, type IstioSettings } from "./manifests.ts";
import {
  type ClusterState,
  downPlan,
  FRESH_CLUSTER,
  observeCluster,
  parseKindClusters,
  upPlan,
} from "./plan.ts";

const settings: IstioSettings = { ...DEFAULT_SETTINGS };
const RUNNING: ClusterState = {
  clusterExists: true,
  istioCrds: true,
  istiodReady: true,
  namespaceExists: true,
  injectionEnabled: true,
  namespaceOwned: false,
};
const K = "kubectl --context kind-wasmerang";
const APPLY =
  `${K} apply --server-side --force-conflicts --field-manager=wasmerang --validate=strict`;

Deno.test("up --dry-run on a fresh cluster: every command, exactly", () => {
  assert.equal(
    upPlan(settings, "istio-k8s", FRESH_CLUSTER).render(),
    [
      "kind create cluster --name wasmerang --config istio-k8s/kind-cluster.yaml --wait 120s",
      "istioctl install -y --context kind-wasmerang --set profile=minimal",
      `# skipped (namespace default exists): ${K} create namespace default`,
      `${K} label namespace default istio-injection=enabled --overwrite`,
      `${APPLY} -f istio-k8s/filter-configmap.yaml`,
      `${APPLY} -f istio-k8s/egress.yaml -f istio-k8s/sidecar.yaml -f istio-k8s/wasmplugin.yaml ` +
      "-f istio-k8s/networkpolicy.yaml -f istio-k8s/client.yaml",
      `${K} -n default rollout status deployment/egress1 --timeout=300s`,
      `${K} -n default rollout status deployment/egress2 --timeout=300s`,
      `${K} -n default rollout status deployment/wasmerang-client --timeout=300s`,
    ].join("\n"),
  );
});

Deno.test("up --dry-run on a running cluster: cluster, Istio, namespace and label are skipped", () => {
  const plan = upPlan(settings, "istio-k8s", RUNNING);
  assert.deepEqual(
    plan.steps.filter((item) => item.skipped).map((item) => item.skipped),
    [
      'cluster "wasmerang" exists: reused',
      "istiod is running",
      "namespace default exists",
      "namespace default has istio-injection=enabled",
    ],
  );
  const running = plan.steps.filter((item) => !item.skipped).map((item) =>
    item.title
  );
  assert.deepEqual(running, [
    "Apply the filter ConfigMap",
    "Apply egress services, Sidecar, WasmPlugin, NetworkPolicy and client",
    "Wait for deployment egress1",
    "Wait for deployment egress2",
    "Wait for deployment wasmerang-client",
  ]);
  assert.match(
    plan.render(),
    /^# skipped \(cluster "wasmerang" exists: reused\): kind create cluster/,
  );
});

Deno.test("up plan: a cluster without Istio installs it; a new namespace is created; the override is applied", () => {
  const lab: IstioSettings = {
    api: "envoyfilter",
    namespace: "demo",
    clusterName: "lab",
    httpOverride: true,
    clusters: ["egress1", "egress2"],
  };
  const plan = upPlan(lab, "/tmp/x", {
    ...RUNNING,
    istiodReady: false,
    namespaceExists: false,
    injectionEnabled: false,
    namespaceOwned: false,
  });
  const text = plan.render();
  assert.match(text, /^# skipped \(cluster "lab" exists: reused\)/);
  assert.match(
    text,
    /\nistioctl install -y --context kind-lab --set profile=minimal\n/,
  );
  assert.match(text, /\nkubectl --context kind-lab create namespace demo\n/);
  assert.match(
    text,
    /\nkubectl --context kind-lab label namespace demo istio-injection=enabled app\.kubernetes\.io\/part-of=wasmerang --overwrite\n/,
  );
  assert.match(
    text,
    /-f \/tmp\/x\/envoyfilter\.yaml -f \/tmp\/x\/http-override\.yaml -f \/tmp\/x\/networkpolicy\.yaml/,
  );
  assert.equal(plan.steps.filter((item) => item.skipped).length, 1);
});

Deno.test("down plan: delete by label, or the whole cluster; nothing to do when it is gone", () => {
  const plan = downPlan(settings, RUNNING);
  assert.deepEqual(plan.steps.map((item) => item.skipped), [
    undefined,
    undefined,
    undefined,
  ]);
  assert.equal(
    plan.render(),
    [
      `${K} delete -n default wasmplugins.extensions.istio.io,envoyfilters.networking.istio.io,sidecars.networking.istio.io ` +
      "-l app.kubernetes.io/part-of=wasmerang --ignore-not-found",
      `${K} delete -n default deployments.apps,services,configmaps,networkpolicies.networking.k8s.io ` +
      "-l app.kubernetes.io/part-of=wasmerang --ignore-not-found",
      `${K} label namespace default istio-injection-`,
    ].join("\n"),
  );
  assert.ok(
    downPlan(settings, FRESH_CLUSTER).steps.every((item) =>
      item.skipped === 'cluster "wasmerang" does not exist'
    ),
  );
  assert.equal(
    downPlan(settings, { ...RUNNING, istioCrds: false }).steps[0].skipped,
    "Istio is not installed",
  );
  // A namespace up created (it carries the part-of label) goes as a whole.
  const lab: IstioSettings = {
    api: "envoyfilter",
    namespace: "demo",
    clusterName: "lab",
    httpOverride: false,
    clusters: ["egress1", "egress2"],
  };
  assert.equal(
    downPlan(lab, { ...RUNNING, namespaceOwned: true }).render(),
    "kubectl --context kind-lab delete namespace demo --ignore-not-found",
  );
  assert.equal(
    downPlan(settings, RUNNING, { cluster: true }).render(),
    "kind delete cluster --name wasmerang",
  );
  assert.equal(
    downPlan(settings, FRESH_CLUSTER, { cluster: true }).steps[0].skipped,
    'cluster "wasmerang" does not exist',
  );
});

function fakeRunner(outputs: Record<string, Partial<CommandResult>>) {
  const calls: string[] = [];
  const run = (argv: string[]) => {
    const key = argv.join(" ");
    calls.push(key);
    const found = Object.entries(outputs).find(([prefix]) =>
      key.startsWith(prefix)
    );
    return Promise.resolve({
      code: 1,
      stdout: "",
      stderr: "not found",
      timedOut: false,
      ...found?.[1],
    });
  };
  return { run, calls };
}

Deno.test("observeCluster reads kind, the Istio CRD, istiod and the namespace label", async () => {
  const none = fakeRunner({
    "kind get clusters": {
      code: 0,
      stdout: "",
      stderr: "No kind clusters found.\n",
    },
  });
  assert.deepEqual(await observeCluster(settings, none.run), FRESH_CLUSTER);
  assert.equal(
    none.calls.length,
    1,
    "nothing else is asked when the cluster does not exist",
  );

  const bare = fakeRunner({
    "kind get clusters": { code: 0, stdout: "other\nwasmerang\n" },
  });
  assert.deepEqual(await observeCluster(settings, bare.run), {
    clusterExists: true,
    istioCrds: false,
    istiodReady: false,
    namespaceExists: false,
    injectionEnabled: false,
    namespaceOwned: false,
  });

  const running = fakeRunner({
    "kind get clusters": { code: 0, stdout: "wasmerang\n" },
    [`${K} get crd`]: {
      code: 0,
      stdout:
        "customresourcedefinition.apiextensions.k8s.io/envoyfilters.networking.istio.io\n",
    },
    [`${K} get deployment istiod`]: {
      code: 0,
      stdout: JSON.stringify({ status: { availableReplicas: 1 } }),
    },
    [`${K} get namespace default`]: {
      code: 0,
      stdout: JSON.stringify({
        metadata: { labels: { "istio-injection": "enabled" } },
      }),
    },
  });
  assert.deepEqual(await observeCluster(settings, running.run), RUNNING);

  const starting = fakeRunner({
    "kind get clusters": { code: 0, stdout: "wasmerang\n" },
    [`${K} get deployment istiod`]: {
      code: 0,
      stdout: JSON.stringify({ status: { replicas: 1 } }),
    },
    [`${K} get namespace default`]: {
      code: 0,
      stdout: JSON.stringify({ metadata: { labels: {} } }),
    },
  });
  const state = await observeCluster(settings, starting.run);
  assert.equal(state.istiodReady, false);
  assert.equal(state.namespaceExists, true);
  assert.equal(state.injectionEnabled, false);
});

Deno.test("parseKindClusters ignores kind's 'No kind clusters found.'", () => {
  assert.deepEqual(parseKindClusters("No kind clusters found.\n"), []);
  assert.deepEqual(parseKindClusters("a\nwasmerang\n"), ["a", "wasmerang"]);
});
