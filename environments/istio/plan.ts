/**
 * What `up istio` and `down istio` do, as a pure function of what is observed
 * in the cluster: the same plan is printed by `--dry-run` and run step by step
 * (spinner, ✓/✗) otherwise. Every step is idempotent or skipped when its effect
 * is already there, so a second `up` only re-applies the manifests.
 */
import { join } from "node:path";
import { Plan, type Runner, runQuery } from "../../lib/commands.ts";
import {
  CLIENT_NAME,
  type IstioSettings,
  kubeContext,
  kubectl,
  PART_OF_SELECTOR,
} from "./manifests.ts";
import {
  APPLY_ORDER,
  ENVOY_FILTER_FILE,
  HTTP_OVERRIDE_FILE,
  KIND_CONFIG_FILE,
  WASM_PLUGIN_FILE,
} from "./file_names.ts";

/** What `up` and `down` need to know about the cluster before acting. */
export interface ClusterState {
  /** `kind get clusters` lists the cluster. */
  clusterExists: boolean;
  /** The Istio CRDs (EnvoyFilter, WasmPlugin, Sidecar) are installed. */
  istioCrds: boolean;
  /** istio-system/istiod has an available replica. */
  istiodReady: boolean;
  /** The example's namespace exists. */
  namespaceExists: boolean;
  /** The namespace carries `istio-injection=enabled`. */
  injectionEnabled: boolean;
  /** The namespace carries wasmerang's part-of label: `up` created it, `down` deletes it. */
  namespaceOwned: boolean;
}

/** A cluster that does not exist yet: every step of `up` runs. */
export const FRESH_CLUSTER: Readonly<ClusterState> = Object.freeze({
  clusterExists: false,
  istioCrds: false,
  istiodReady: false,
  namespaceExists: false,
  injectionEnabled: false,
  namespaceOwned: false,
});

/** One command of a plan, before it becomes a {@link Plan} step. */
interface Command {
  title: string;
  argv: string[];
  skipped?: string;
  timeoutMs?: number;
}

function planOf(commands: Command[]): Plan {
  const plan = new Plan();
  for (const command of commands) {
    plan.run(
      command.title,
      command.argv,
      command.timeoutMs === undefined ? {} : { timeoutMs: command.timeoutMs },
      command.skipped,
    );
  }
  return plan;
}

const ROLLOUT_TIMEOUT = "300s";

/** The manifest files `up` applies, in order, the ConfigMap first. */
export function manifestFiles(settings: IstioSettings): string[] {
  return APPLY_ORDER.filter((file) =>
    (file !== HTTP_OVERRIDE_FILE || settings.httpOverride) &&
    (file !== ENVOY_FILTER_FILE || settings.api === "envoyfilter") &&
    (file !== WASM_PLUGIN_FILE || settings.api === "wasmplugin")
  );
}

/**
 * The steps of `up istio` for the files in `dir` and the observed `state`.
 * Pure: tests call it with {@link FRESH_CLUSTER} and with a running cluster.
 */
export function upPlan(
  settings: IstioSettings,
  dir: string,
  state: ClusterState,
): Plan {
  const name = settings.clusterName;
  const ns = settings.namespace;
  const file = (base: string) => join(dir, base);
  const apply = (...files: string[]) =>
    kubectl(
      settings,
      "apply",
      "--server-side",
      "--force-conflicts",
      "--field-manager=wasmerang",
      "--validate=strict",
      ...files.flatMap((base) => ["-f", file(base)]),
    );
  const [configMap, ...rest] = manifestFiles(settings);
  const creating = !state.namespaceExists && ns !== "default";
  return planOf([
    {
      title: `Create kind cluster "${name}"`,
      argv: [
        "kind",
        "create",
        "cluster",
        "--name",
        name,
        "--config",
        file(KIND_CONFIG_FILE),
        "--wait",
        "120s",
      ],
      skipped: state.clusterExists
        ? `cluster "${name}" exists: reused`
        : undefined,
      timeoutMs: 600_000,
    },
    {
      title: "Install Istio (minimal profile: istiod only)",
      argv: [
        "istioctl",
        "install",
        "-y",
        "--context",
        kubeContext(settings),
        "--set",
        "profile=minimal",
      ],
      skipped: state.istiodReady ? "istiod is running" : undefined,
      timeoutMs: 600_000,
    },
    {
      title: `Create namespace ${ns}`,
      argv: kubectl(settings, "create", "namespace", ns),
      skipped: creating ? undefined : `namespace ${ns} exists`,
    },
    {
      title: `Label namespace ${ns} for sidecar injection`,
      argv: kubectl(
        settings,
        "label",
        "namespace",
        ns,
        "istio-injection=enabled",
        ...(creating ? [PART_OF_SELECTOR] : []),
        "--overwrite",
      ),
      skipped: state.injectionEnabled
        ? `namespace ${ns} has istio-injection=enabled`
        : undefined,
    },
    {
      title: "Apply the filter ConfigMap",
      argv: apply(configMap),
      timeoutMs: 120_000,
    },
    {
      title: `Apply egress services, Sidecar, ${
        settings.api === "wasmplugin" ? "WasmPlugin" : "EnvoyFilter"
      }${
        settings.httpOverride ? ", HTTP override" : ""
      }, NetworkPolicy and client`,
      argv: apply(...rest),
      timeoutMs: 120_000,
    },
    ...[...settings.clusters, CLIENT_NAME].map((deployment) => ({
      title: `Wait for deployment ${deployment}`,
      argv: kubectl(
        settings,
        "-n",
        ns,
        "rollout",
        "status",
        `deployment/${deployment}`,
        `--timeout=${ROLLOUT_TIMEOUT}`,
      ),
      timeoutMs: 360_000,
    })),
  ]);
}

/**
 * The steps of `down istio`: delete the example's objects (by their
 * `app.kubernetes.io/part-of=wasmerang` label) and the injection label, or,
 * with `cluster`, the whole kind cluster. Istio itself stays installed
 * without `cluster`.
 */
export function downPlan(
  settings: IstioSettings,
  state: ClusterState,
  options: { cluster?: boolean } = {},
): Plan {
  const name = settings.clusterName;
  const ns = settings.namespace;
  const gone = `cluster "${name}" does not exist`;
  if (options.cluster) {
    return planOf([{
      title: `Delete kind cluster "${name}"`,
      argv: ["kind", "delete", "cluster", "--name", name],
      skipped: state.clusterExists ? undefined : gone,
      timeoutMs: 300_000,
    }]);
  }
  const noNamespace = !state.clusterExists
    ? gone
    : !state.namespaceExists
    ? `namespace ${ns} does not exist`
    : undefined;
  if (noNamespace === undefined && state.namespaceOwned) {
    return planOf([{
      title: `Delete namespace ${ns} (up created it) and everything in it`,
      argv: kubectl(settings, "delete", "namespace", ns, "--ignore-not-found"),
      timeoutMs: 300_000,
    }]);
  }
  // The example's objects of `kinds`, found by their part-of label.
  const deleteOurs = (kinds: string) =>
    kubectl(
      settings,
      "delete",
      "-n",
      ns,
      kinds,
      "-l",
      PART_OF_SELECTOR,
      "--ignore-not-found",
    );
  return planOf([
    {
      title: "Delete the Istio objects (WasmPlugins, EnvoyFilters, Sidecar)",
      argv: deleteOurs(
        "wasmplugins.extensions.istio.io,envoyfilters.networking.istio.io,sidecars.networking.istio.io",
      ),
      skipped: noNamespace ??
        (state.istioCrds ? undefined : "Istio is not installed"),
      timeoutMs: 120_000,
    },
    {
      title: "Delete deployments, services, ConfigMap and NetworkPolicy",
      argv: deleteOurs(
        "deployments.apps,services,configmaps,networkpolicies.networking.k8s.io",
      ),
      skipped: noNamespace,
      timeoutMs: 180_000,
    },
    {
      title: `Remove the injection label from namespace ${ns}`,
      argv: kubectl(settings, "label", "namespace", ns, "istio-injection-"),
      skipped: noNamespace ??
        (state.injectionEnabled ? undefined : "not labelled"),
    },
  ]);
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text);
    return value && typeof value === "object"
      ? value as Record<string, unknown>
      : undefined;
  } catch {
    return undefined;
  }
}

/** Names listed by `kind get clusters` (one per line; nothing when there are none). */
export function parseKindClusters(stdout: string): string[] {
  return stdout.split("\n").map((line) => line.trim()).filter((line) =>
    /^[a-z0-9-]+$/.test(line)
  );
}

/** `availableReplicas > 0` in `kubectl get deployment istiod -o json`. */
export function parseIstiodReady(stdout: string): boolean {
  const status = parseJson(stdout)?.status as
    | { availableReplicas?: number }
    | undefined;
  return (status?.availableReplicas ?? 0) > 0;
}

/** The labels of `kubectl get namespace NS -o json`. */
export function parseNamespaceLabels(stdout: string): Record<string, string> {
  const metadata = parseJson(stdout)?.metadata as {
    labels?: Record<string, string>;
  } | undefined;
  return metadata?.labels ?? {};
}

/** Looks at the cluster (read-only commands only) and reports its state. */
export async function observeCluster(
  settings: IstioSettings,
  run: Runner = runQuery,
): Promise<ClusterState> {
  const clusters = await run(["kind", "get", "clusters"]);
  if (
    clusters.code !== 0 ||
    !parseKindClusters(clusters.stdout).includes(settings.clusterName)
  ) {
    return { ...FRESH_CLUSTER };
  }
  const [crds, istiod, namespace] = await Promise.all([
    run(
      kubectl(
        settings,
        "get",
        "crd",
        "envoyfilters.networking.istio.io",
        "-o",
        "name",
      ),
    ),
    run(
      kubectl(
        settings,
        "get",
        "deployment",
        "istiod",
        "-n",
        "istio-system",
        "-o",
        "json",
      ),
    ),
    run(
      kubectl(settings, "get", "namespace", settings.namespace, "-o", "json"),
    ),
  ]);
  const labels = namespace.code === 0
    ? parseNamespaceLabels(namespace.stdout)
    : {};
  return {
    clusterExists: true,
    istioCrds: crds.code === 0,
    istiodReady: istiod.code === 0 && parseIstiodReady(istiod.stdout),
    namespaceExists: namespace.code === 0,
    injectionEnabled: labels["istio-injection"] === "enabled",
    namespaceOwned: labels["app.kubernetes.io/part-of"] === "wasmerang",
  };
}
