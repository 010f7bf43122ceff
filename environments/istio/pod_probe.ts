/**
 * `probe istio`: connections from the client pods (each an injected pod with
 * the filter in its sidecar) to the Service `egress`, which the filter
 * intercepts. Each connection is `kubectl exec <pod> -- nc egress 9000`; the
 * first line of the answer names the egress that took it. The expectation
 * is the filter's own decision: the module the sidecars run (the folder's
 * ConfigMap, else the embedded filter), with its root id and the plugin
 * configuration the example carries, run in the project's host for the pod's
 * IP (lib/judge.ts).
 */
import {
  judgedResult,
  type ProbeReport,
  probeReport,
  type ProbeResult,
} from "../../lib/probe_report.ts";
import {
  EMBEDDED_MODULE,
  judgedFilter,
  judgeSources,
  type ProbeJudge,
} from "../../lib/judge.ts";
import { embeddedFilter } from "../../lib/filter_module.ts";
import { ROOT_ID } from "../../lib/routing.ts";
import { UserError } from "../../lib/errors.ts";
import { type Runner, runQuery } from "../../lib/commands.ts";
import {
  CLIENT_CONTAINER,
  CLIENT_NAME,
  filterConfiguration,
  FRONT_SERVICE,
  type IstioSettings,
  kubeContext,
  kubectl,
  PROBE_PORT,
  serviceHost,
} from "./manifests.ts";

/** One probe connection's result: the shared fields plus the pod and the cluster. */
export interface IstioProbeResult extends ProbeResult {
  /** The client pod the connection came from. */
  pod: string;
  /** The Envoy cluster the filter chose (as `chosen`), or null when it left the connection alone. */
  cluster: string | null;
}

/** A client pod as the probe sees it. */
export interface ClientPod {
  name: string;
  ip: string;
  /** Running and every container ready. */
  ready: boolean;
  /** Has an istio-proxy container (classic or native sidecar). */
  sidecar: boolean;
}

/** Connections `probe istio` makes unless `--count` says otherwise. */
export const DEFAULT_PROBE_COUNT = 8;

/** Options of {@link probeIstio}. */
export interface IstioProbeOptions {
  /** Connections to make, spread round-robin over the client pods (default {@link DEFAULT_PROBE_COUNT}). */
  count?: number;
  /** Destination port: 9000, or 80 with the HTTP override. */
  port?: number;
  /** Connections in flight at once (default 4). */
  parallel?: number;
  /**
   * The module the sidecars run and its root id (default: the embedded
   * filter, under the example's root id, else `wasmerang`); the
   * configuration is the example's.
   */
  filter?: { wasm: Uint8Array; rootId?: string; module?: string };
}

interface PodJson {
  metadata?: { name?: string };
  spec?: {
    containers?: { name?: string }[];
    initContainers?: { name?: string }[];
  };
  status?: {
    phase?: string;
    podIP?: string;
    containerStatuses?: { ready?: boolean }[];
  };
}

/** The client pods in `kubectl get pods -o json`, sorted by name. */
export function parseClientPods(stdout: string): ClientPod[] {
  let items: PodJson[];
  try {
    items = (JSON.parse(stdout) as { items?: PodJson[] }).items ?? [];
  } catch {
    throw new UserError(
      "kubectl printed something that is not JSON for the client pods",
    );
  }
  return items.map((item) => {
    const names = [
      ...(item.spec?.containers ?? []),
      ...(item.spec?.initContainers ?? []),
    ]
      .map((container) => container.name);
    const statuses = item.status?.containerStatuses ?? [];
    return {
      name: item.metadata?.name ?? "?",
      ip: item.status?.podIP ?? "",
      ready: item.status?.phase === "Running" && statuses.length > 0 &&
        statuses.every((status) => status.ready),
      sidecar: names.includes("istio-proxy"),
    };
  }).sort((a, b) => a.name.localeCompare(b.name));
}

/** The egress name inside an Istio cluster name (`outbound|9000||egress1.ns.svc…` → `egress1`). */
export function egressOfCluster(cluster: string): string {
  const fqdn = cluster.split("|")[3] ?? cluster;
  return fqdn.split(".")[0];
}

/** The first line of what the egress answered, if any. */
export function parseBanner(stdout: string): string | null {
  const line = stdout.split("\n")[0]?.trim();
  return line ? line : null;
}

/** The command that makes one connection from `pod`. */
export function probeCommand(
  settings: IstioSettings,
  pod: string,
  port: number,
): string[] {
  return [
    ...kubectl(settings, "-n", settings.namespace),
    "exec",
    pod,
    "-c",
    CLIENT_CONTAINER,
    "--",
    "sh",
    "-c",
    `echo wasmerang-probe | nc -w 5 ${FRONT_SERVICE} ${port}`,
  ];
}

function lastLine(text: string): string {
  return text.trim().split("\n").at(-1) ?? "";
}

/**
 * Probes the running example. Throws a UserError (exit 2) when the cluster or
 * the client pods cannot be reached, before any connection is made.
 */
export async function probeIstio(
  settings: IstioSettings,
  options: IstioProbeOptions = {},
  run: Runner = runQuery,
): Promise<ProbeReport> {
  const count = options.count ?? DEFAULT_PROBE_COUNT;
  const port = options.port ?? PROBE_PORT;
  if (!Number.isInteger(count) || count < 1) {
    throw new UserError("--count must be a positive integer", 2);
  }
  const inNamespace = kubectl(settings, "-n", settings.namespace);
  const listed = await run([
    ...inNamespace,
    "get",
    "pods",
    "-l",
    `app=${CLIENT_NAME}`,
    "-o",
    "json",
  ]);
  if (listed.code !== 0) {
    throw new UserError(
      `cannot list the client pods in cluster "${settings.clusterName}": ${
        lastLine(listed.stderr)
      } ` +
        "(run 'wasmerang up istio' first)",
      2,
    );
  }
  const pods = parseClientPods(listed.stdout);
  const usable = pods.filter((pod) => pod.ready && pod.ip !== "");
  if (usable.length === 0) {
    throw new UserError(
      `no ready ${CLIENT_NAME} pod in namespace ${settings.namespace} (run 'wasmerang up istio' and wait for the rollout)`,
      2,
    );
  }
  const bare = usable.find((pod) => !pod.sidecar);
  if (bare) {
    throw new UserError(
      `pod ${bare.name} has no istio-proxy sidecar, so no filter: label the namespace ` +
        `(istio-injection=enabled) and restart it: kubectl --context ${
          kubeContext(settings)
        } -n ${settings.namespace} ` +
        `rollout restart deployment/${CLIENT_NAME}`,
      2,
    );
  }
  const service = await run([
    ...inNamespace,
    "get",
    "service",
    FRONT_SERVICE,
    "-o",
    "json",
  ]);
  const clusterIp = service.code === 0
    ? (JSON.parse(service.stdout) as { spec?: { clusterIP?: string } }).spec
      ?.clusterIP
    : undefined;
  if (!clusterIp) {
    throw new UserError(
      `service ${FRONT_SERVICE} not found in namespace ${settings.namespace}`,
      2,
    );
  }
  const destination = `${clusterIp}:${port}`;
  const judge: ProbeJudge = {
    wasm: options.filter?.wasm ?? embeddedFilter(),
    rootId: options.filter?.rootId ?? settings.rootId ?? ROOT_ID,
    configuration: filterConfiguration(settings),
    // tcp_proxy's own cluster: the Service, which balances over every egress.
    defaultCluster: `outbound|${port}||${
      serviceHost(FRONT_SERVICE, settings.namespace)
    }`,
    module: options.filter?.module ?? EMBEDDED_MODULE,
  };
  const decisions = await judgeSources(
    judge,
    usable.map((pod) => pod.ip),
    destination,
  );
  const results: IstioProbeResult[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const pod = usable[index % usable.length];
      const decision = decisions.get(pod.ip)!;
      const started = performance.now();
      const result = await run(probeCommand(settings, pod.name, port));
      const ms = performance.now() - started;
      const got = result.code === 0 ? parseBanner(result.stdout) : null;
      const error = got === null
        ? (result.timedOut
          ? "timed out"
          : lastLine(result.stderr) || `exit ${result.code}, no answer`)
        : undefined;
      results[index] = {
        ...judgedResult(pod.ip, decision, judge.defaultCluster, {
          got,
          ms,
          ...(error === undefined ? {} : { error }),
        }, egressOfCluster),
        pod: pod.name,
        cluster: decision.cluster,
      };
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(options.parallel ?? 4, count) }, worker),
  );
  return probeReport(
    `${FRONT_SERVICE}.${settings.namespace}:${port} in kind-${settings.clusterName}`,
    results,
    judgedFilter(judge),
  );
}
