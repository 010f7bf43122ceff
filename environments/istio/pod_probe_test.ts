import assert from "node:assert/strict";
import type { CommandResult } from "../../lib/commands.ts";
import { UserError } from "../../lib/errors.ts";
import { probeExitCode, renderProbeReport } from "../../lib/probe_report.ts";
import { DEFAULT_SETTINGS, type IstioSettings } from "./manifests.ts";
import {
  egressOfCluster,
  type IstioProbeResult,
  parseBanner,
  parseClientPods,
  probeIstio,
} from "./pod_probe.ts";

const settings: IstioSettings = { ...DEFAULT_SETTINGS };
const E1 = "outbound|9000||egress1.default.svc.cluster.local";
const E2 = "outbound|9000||egress2.default.svc.cluster.local";

function pod(
  name: string,
  ip: string,
  options: { sidecar?: "classic" | "native" | "none"; ready?: boolean } = {},
) {
  const sidecar = { name: "istio-proxy" };
  return {
    metadata: { name },
    spec: {
      containers: [
        { name: "client" },
        ...(options.sidecar === "classic" ? [sidecar] : []),
      ],
      initContainers: [
        { name: "istio-init" },
        ...((options.sidecar ?? "native") === "native" ? [sidecar] : []),
      ],
    },
    status: {
      phase: "Running",
      podIP: ip,
      containerStatuses: [{ ready: options.ready ?? true }],
    },
  };
}

const ok = (stdout: string): CommandResult => ({
  code: 0,
  stdout,
  stderr: "",
  timedOut: false,
});

/** A fake kubectl: pods and service from the arguments, `nc` answered by `answer(pod)`. */
function cluster(pods: unknown[], answer: (pod: string) => CommandResult) {
  const execs: string[][] = [];
  const run = (argv: string[]): Promise<CommandResult> => {
    if (argv.includes("pods")) {
      return Promise.resolve(ok(JSON.stringify({ items: pods })));
    }
    if (argv.includes("service")) {
      return Promise.resolve(
        ok(JSON.stringify({ spec: { clusterIP: "10.96.40.2" } })),
      );
    }
    if (argv.includes("exec")) {
      execs.push(argv);
      return Promise.resolve(answer(argv[argv.indexOf("exec") + 1]));
    }
    return Promise.reject(new Error(`unexpected ${argv.join(" ")}`));
  };
  return { run, execs };
}

Deno.test("probe istio: each result names the pod IP, what the filter chose, the expected egress and who answered", async () => {
  const pods = [
    pod("client-a", "10.244.0.10"),
    pod("client-b", "10.244.0.11", { sidecar: "classic" }),
  ];
  const byPod: Record<string, string> = {
    "client-a": "egress1\nwasmerang-probe\n",
    "client-b": "egress2\nwasmerang-probe\n",
  };
  const fake = cluster(pods, (name) => ok(byPod[name]));
  const report = await probeIstio(settings, { count: 4 }, fake.run);
  const results = report.results as IstioProbeResult[];
  assert.deepEqual(
    results.map((
      result,
    ) => [
      result.pod,
      result.source,
      result.chosen,
      result.expected,
      result.got,
      result.ok,
    ]),
    [
      ["client-a", "10.244.0.10", E1, "egress1", "egress1", true],
      ["client-b", "10.244.0.11", E2, "egress2", "egress2", true],
      ["client-a", "10.244.0.10", E1, "egress1", "egress1", true],
      ["client-b", "10.244.0.11", E2, "egress2", "egress2", true],
    ],
  );
  assert.equal(
    results[1].cluster,
    "outbound|9000||egress2.default.svc.cluster.local",
  );
  assert.equal(probeExitCode(report), 0);
  assert.deepEqual(fake.execs[0], [
    "kubectl",
    "--context",
    "kind-wasmerang",
    "-n",
    "default",
    "exec",
    "client-a",
    "-c",
    "client",
    "--",
    "sh",
    "-c",
    "echo wasmerang-probe | nc -w 5 egress 9000",
  ]);
  assert.match(
    renderProbeReport(report),
    /✓ 4 of 4 connections answered by the expected egress/,
  );
  assert.equal(JSON.parse(JSON.stringify(report)).results[0].chosen, E1);
});

Deno.test("probe istio: a wrong egress or no answer fails the probe (exit 1)", async () => {
  const pods = [pod("client-a", "10.244.0.10"), pod("client-b", "10.244.0.13")];
  const fake = cluster(pods, (name) =>
    name === "client-a"
      ? ok("egress2\n") // the filter did not apply: the Service balanced to the other egress
      : {
        code: 1,
        stdout: "",
        stderr: "nc: can't connect to remote host\n",
        timedOut: false,
      });
  const report = await probeIstio(settings, { count: 2, port: 80 }, fake.run);
  assert.equal(report.failed, 2);
  assert.equal(probeExitCode(report), 1);
  assert.equal(report.results[0].got, "egress2");
  assert.equal(report.results[0].expected, "egress1");
  assert.equal(report.results[1].error, "nc: can't connect to remote host");
  assert.equal(
    (report.results[1] as IstioProbeResult).cluster,
    "outbound|80||egress2.default.svc.cluster.local",
  );
  assert.ok(fake.execs[0].at(-1)!.endsWith("nc -w 5 egress 80"));
});

Deno.test("probe istio: no cluster, no ready pod, or a pod without sidecar stop before connecting (exit 2)", async () => {
  const unreachable = (argv: string[]) =>
    Promise.resolve({
      code: 1,
      stdout: "",
      stderr: `error: context "kind-wasmerang" does not exist\n`,
      timedOut: false,
      argv,
    });
  await assert.rejects(
    probeIstio(settings, {}, unreachable),
    (error: unknown) =>
      error instanceof UserError && error.exitCode === 2 &&
      /context "kind-wasmerang" does not exist/.test(error.message),
  );
  const notReady = cluster(
    [pod("client-a", "10.244.0.10", { ready: false })],
    () => ok("egress1\n"),
  );
  await assert.rejects(
    probeIstio(settings, {}, notReady.run),
    /no ready wasmerang-client pod/,
  );
  assert.equal(notReady.execs.length, 0);
  const bare = cluster(
    [pod("client-a", "10.244.0.10", { sidecar: "none" })],
    () => ok("egress1\n"),
  );
  await assert.rejects(
    probeIstio(settings, {}, bare.run),
    /client-a has no istio-proxy sidecar/,
  );
  assert.equal(bare.execs.length, 0);
});

Deno.test("probe helpers: pods, banners, cluster names", () => {
  const pods = parseClientPods(
    JSON.stringify({
      items: [pod("b", "10.0.0.2"), pod("a", "10.0.0.3", { sidecar: "none" })],
    }),
  );
  assert.deepEqual(pods, [
    { name: "a", ip: "10.0.0.3", ready: true, sidecar: false },
    { name: "b", ip: "10.0.0.2", ready: true, sidecar: true },
  ]);
  assert.equal(parseBanner("egress1\r\nhello\n"), "egress1");
  assert.equal(parseBanner(""), null);
  assert.equal(
    egressOfCluster("outbound|9000||egress2.demo.svc.cluster.local"),
    "egress2",
  );
});

Deno.test("probe istio with egresses alpha and beta: the module, configured for them, is the judge; a swap is caught", async () => {
  const named: IstioSettings = {
    ...DEFAULT_SETTINGS,
    namespace: "mesh",
    clusters: ["alpha", "beta"],
  };
  const pods = [pod("client-a", "10.244.0.10"), pod("client-b", "10.244.0.11")];
  const answers: Record<string, string> = {
    "client-a": "alpha\n",
    "client-b": "beta\n",
  };
  const report = await probeIstio(
    named,
    { count: 2 },
    cluster(pods, (name) => ok(answers[name])).run,
  );
  assert.deepEqual(
    (report.results as IstioProbeResult[]).map((result) => [
      result.chosen,
      result.expected,
      result.ok,
    ]),
    [
      ["outbound|9000||alpha.mesh.svc.cluster.local", "alpha", true],
      ["outbound|9000||beta.mesh.svc.cluster.local", "beta", true],
    ],
  );
  assert.equal(probeExitCode(report), 0);
  const swapped = await probeIstio(
    named,
    { count: 2 },
    cluster(
      pods,
      (name) => ok(answers[name === "client-a" ? "client-b" : "client-a"]),
    ).run,
  );
  assert.equal(probeExitCode(swapped), 1);
  assert.equal(swapped.failed, 2);
});
