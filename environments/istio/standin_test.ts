/**
 * `up`, `probe` and `down istio` for real, against stand-in `kind`, `kubectl`,
 * `istioctl` and `docker` programs that keep a tiny cluster state in files and
 * record how they were called: the commands the plan runs, the skips of a
 * second `up`, the probe's parsing of real command output, and `down`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "../../testing/cli.ts";
import { writeStandIns } from "../../testing/fake_tools.ts";

const POD = (name: string, ip: string) => ({
  metadata: { name },
  spec: { containers: [{ name: "client" }, { name: "istio-proxy" }] },
  status: {
    phase: "Running",
    podIP: ip,
    containerStatuses: [{ ready: true }, { ready: true }],
  },
});

async function standIns(state: string): Promise<string> {
  const bin = join(state, "bin");
  await Deno.mkdir(bin);
  const pods = JSON.stringify({
    items: [POD("client-a", "10.244.0.8"), POD("client-b", "10.244.0.9")],
  });
  const tools: Record<string, string> = {
    docker: `case "$1" in
  --version) echo "Docker version 27.3.1, build ce12230" ;;
  info) echo "27.3.1" ;;
  *) exit 1 ;;
esac`,
    kind: `case "$1 $2" in
  "version "*) echo "kind v0.32.0 go1.25.1 linux/amd64" ;;
  "get clusters") [ -f "$S/cluster" ] && echo wasmerang || echo "No kind clusters found." >&2 ;;
  "create cluster") touch "$S/cluster"; echo " ✓ Ensuring node image (kindest/node:v1.36.1)" >&2 ;;
  "delete cluster") rm -f "$S/cluster" "$S/istio" "$S/labelled" "$S/applied"; echo "Deleting cluster" >&2 ;;
esac`,
    istioctl: `case "$1" in
  version) echo "client version: 1.31.1" ;;
  install) touch "$S/istio"; echo "✔ Installation complete" ;;
esac`,
    kubectl: `[ "$1" = version ] && { echo "Client Version: v1.36.1"; exit 0; }
[ -f "$S/cluster" ] || { echo 'error: context "kind-wasmerang" does not exist' >&2; exit 1; }
shift 2  # --context kind-wasmerang
case "$*" in
  "get crd"*) [ -f "$S/istio" ] && echo "customresourcedefinition/envoyfilters.networking.istio.io" || exit 1 ;;
  "get deployment istiod"*) [ -f "$S/istio" ] && echo '{"status":{"availableReplicas":1}}' || exit 1 ;;
  "get namespace default"*)
    if [ -f "$S/labelled" ]; then echo '{"metadata":{"labels":{"istio-injection":"enabled"}}}';
    else echo '{"metadata":{"labels":{}}}'; fi ;;
  "label namespace default istio-injection=enabled"*) touch "$S/labelled" ;;
  "label namespace default istio-injection-") rm -f "$S/labelled" ;;
  apply*) touch "$S/applied"; echo "configured" ;;
  *"rollout status"*) echo "successfully rolled out" ;;
  *"get pods"*) echo '${pods}' ;;
  *"get service egress"*) echo '{"spec":{"clusterIP":"10.96.7.7"}}' ;;
  *"exec client-a "*) echo egress1; echo wasmerang-probe ;;
  *"exec client-b "*) echo egress2; echo wasmerang-probe ;;
  *delete*) rm -f "$S/applied" ;;
  *) echo "unexpected: $*" >&2; exit 3 ;;
esac`,
  };
  await writeStandIns(
    bin,
    Object.fromEntries(
      Object.entries(tools).map(([name, body]) => [
        name,
        `PATH=/usr/bin:/bin\nS='${state}'\necho "${name} $*" >> "$S/calls.log"\n${body}`,
      ]),
    ),
  );
  return bin;
}

/** The CLI with only the stand-ins on PATH; `output` is stdout then stderr. */
async function run(path: string, ...args: string[]) {
  const { code, stdout, stderr } = await runCli(args, { path });
  return { code, stdout, output: stdout + stderr };
}

async function calls(state: string): Promise<string[]> {
  const text = await Deno.readTextFile(join(state, "calls.log")).catch(() =>
    ""
  );
  await Deno.writeTextFile(join(state, "calls.log"), "");
  return text.split("\n").filter((line) =>
    line &&
    !/ (--version|version|info)\b/.test(line.split(" ").slice(0, 2).join(" "))
  );
}

Deno.test("up, probe and down istio against stand-in kind, kubectl and istioctl", async () => {
  const state = await Deno.makeTempDir({ prefix: "wasmerang-istio-" });
  try {
    const bin = await standIns(state);
    const dir = join(state, "example");

    const first = await run(bin, "up", "istio", "--dir", dir);
    assert.equal(first.code, 0, first.output);
    const ran = await calls(state);
    assert.deepEqual(
      ran.filter((line) =>
        !line.startsWith("kubectl --context kind-wasmerang get")
      ),
      [
        "kind get clusters",
        `kind create cluster --name wasmerang --config ${dir}/kind-cluster.yaml --wait 120s`,
        "istioctl install -y --context kind-wasmerang --set profile=minimal",
        "kubectl --context kind-wasmerang label namespace default istio-injection=enabled --overwrite",
        `kubectl --context kind-wasmerang apply --server-side --force-conflicts --field-manager=wasmerang --validate=strict -f ${dir}/filter-configmap.yaml`,
        `kubectl --context kind-wasmerang apply --server-side --force-conflicts --field-manager=wasmerang --validate=strict -f ${dir}/egress.yaml ` +
        `-f ${dir}/sidecar.yaml -f ${dir}/wasmplugin.yaml -f ${dir}/networkpolicy.yaml -f ${dir}/client.yaml`,
        "kubectl --context kind-wasmerang -n default rollout status deployment/egress1 --timeout=300s",
        "kubectl --context kind-wasmerang -n default rollout status deployment/egress2 --timeout=300s",
        "kubectl --context kind-wasmerang -n default rollout status deployment/wasmerang-client --timeout=300s",
      ],
    );
    assert.match(first.output, /✓ Create kind cluster "wasmerang"/);
    assert.match(
      first.output,
      /✓ Create namespace default: skipped, namespace default exists/,
    );
    assert.match(first.output, /Next: wasmerang probe istio/);

    // Second run: nothing to create, only the (idempotent) applies and the waits.
    const second = await run(bin, "up", "istio", "--dir", dir);
    assert.equal(second.code, 0, second.output);
    const again = (await calls(state)).filter((line) =>
      !/ get /.test(line) && line !== "kind get clusters"
    );
    assert.equal(again.length, 5);
    assert.ok(
      again.every((line) => / apply | rollout status /.test(line)),
      again.join("\n"),
    );
    assert.match(second.output, /skipped, cluster "wasmerang" exists: reused/);
    assert.match(second.output, /skipped, istiod is running/);

    const dry = await run(bin, "up", "istio", "--dir", dir, "--dry-run");
    assert.match(
      dry.output,
      /# cluster "wasmerang" exists: steps already done are skipped/,
    );
    assert.ok(
      (await calls(state)).every((line) =>
        / get /.test(line) || line === "kind get clusters"
      ),
      "dry run only looks",
    );

    const probe = await run(
      bin,
      "probe",
      "istio",
      "--dir",
      dir,
      "--count",
      "4",
      "--json",
    );
    assert.equal(probe.code, 0, probe.output);
    const report = JSON.parse(probe.stdout);
    // Judged by the module in the folder's ConfigMap, in the host.
    const E1 = "outbound|9000||egress1.default.svc.cluster.local";
    const E2 = "outbound|9000||egress2.default.svc.cluster.local";
    assert.deepEqual(
      report.results.map((
        result: Record<string, unknown>,
      ) => [result.source, result.chosen, result.expected, result.got]),
      [
        ["10.244.0.8", E1, "egress1", "egress1"],
        ["10.244.0.9", E2, "egress2", "egress2"],
        ["10.244.0.8", E1, "egress1", "egress1"],
        ["10.244.0.9", E2, "egress2", "egress2"],
      ],
    );
    await calls(state);

    const down = await run(bin, "down", "istio", "--dir", dir);
    assert.equal(down.code, 0, down.output);
    assert.deepEqual(
      (await calls(state)).filter((line) =>
        !/ get /.test(line) && line !== "kind get clusters"
      ),
      [
        "kubectl --context kind-wasmerang delete -n default wasmplugins.extensions.istio.io,envoyfilters.networking.istio.io,sidecars.networking.istio.io " +
        "-l app.kubernetes.io/part-of=wasmerang --ignore-not-found",
        "kubectl --context kind-wasmerang delete -n default deployments.apps,services,configmaps,networkpolicies.networking.k8s.io " +
        "-l app.kubernetes.io/part-of=wasmerang --ignore-not-found",
        "kubectl --context kind-wasmerang label namespace default istio-injection-",
      ],
    );
    // A hand-edited manifest that does not validate stops up before any change.
    const client = join(dir, "client.yaml");
    await Deno.writeTextFile(
      client,
      (await Deno.readTextFile(client)).replace(
        "replicas: 4",
        "replicas: four",
      ),
    );
    const broken = await run(bin, "up", "istio", "--dir", dir);
    assert.equal(broken.code, 1);
    assert.match(
      broken.output,
      /do not validate:\n.*client\.yaml: Deployment wasmerang-client: spec\.replicas: must be integer/,
    );
    assert.deepEqual(
      (await calls(state)).filter((line) =>
        / (apply|create|install|label) /.test(line)
      ),
      [],
    );

    const gone = await run(bin, "down", "istio", "--cluster");
    assert.equal(gone.code, 0, gone.output);
    assert.ok(
      (await calls(state)).includes("kind delete cluster --name wasmerang"),
    );
    const nothing = await run(bin, "down", "istio", "--cluster");
    assert.match(nothing.output, /skipped, cluster "wasmerang" does not exist/);
  } finally {
    await Deno.remove(state, { recursive: true });
  }
});
