/**
 * The Istio example as data: the kind cluster config and every Kubernetes /
 * Istio manifest `wasmerang scaffold istio` writes, built from typed models
 * (`kubernetes-models`, `@kubernetes-models/istio`) so that a misspelled field
 * in a template is a type error, and a wrong value a validation error.
 *
 * How the example routes (DESIGN §5): the client pods connect to the Service
 * `egress`, which selects the pods of both egress1 and egress2. Without the
 * filter, kube-proxy/Envoy balance between them at random. The EnvoyFilter puts
 * the wasm filter before `tcp_proxy` in the client sidecar's outbound listener
 * for that port, and the filter replaces the cluster
 * `outbound|9000||egress.<ns>.svc.cluster.local` by
 * `outbound|9000||egress1.<ns>.svc.cluster.local` (even pod IP) or `egress2`
 * (odd pod IP). Both target clusters exist in the client's CDS because the
 * Sidecar resource lists the three services.
 */
import { Buffer } from "node:buffer";
import { ConfigMap } from "./models.ts";
import { UserError } from "../../lib/errors.ts";
import { istioPluginConfigString } from "./sidecar.ts";
import { quoteText } from "../../lib/routing.ts";
import {
  areDefaultClusterNames,
  DEFAULT_CLUSTER_NAMES,
  parityPair,
  scaffoldClusterNames,
} from "../../lib/clusters.ts";

/** The kind node image (Kubernetes v1.36.1, kind v0.32.0). */
export const KIND_NODE_IMAGE = "kindest/node:v1.36.1";
/** The Istio release the README and the doctor's hint name. */
export const ISTIO_VERSION = "1.31.1";
/** Image of the egress servers and the client: busybox has `tcpsvd`, `nc`, `sh`. */
export const BUSYBOX_IMAGE = "busybox:1.37.0";
/** The TCP port the client connects to and the egress servers listen on. */
export const PROBE_PORT = 9000;
/** The HTTP port that `--http-override` turns into plain TCP. */
export const HTTP_PORT = 80;
/** The Service the client connects to: it selects both egress deployments. */
export const FRONT_SERVICE = "egress";
/**
 * The parity example's two egress deployments and services, `[even, odd]` as
 * the filter chooses: what `--cluster` names when it is not given.
 */
export const EGRESS_NAMES: readonly string[] = DEFAULT_CLUSTER_NAMES;
/** The client deployment (and its `app` label, which the EnvoyFilter selects). */
export const CLIENT_NAME = "wasmerang-client";
/** The client's application container (the other one is `istio-proxy`). */
export const CLIENT_CONTAINER = "client";
/** Client replicas: several pod IPs, so both parities usually show up. */
export const CLIENT_REPLICAS = 4;
/** The ConfigMap that carries the .wasm, and its key. */
export const FILTER_CONFIGMAP = "wasmerang-filter";
/** The ConfigMap key, which is also the file name in the sidecar. */
export const WASM_KEY = "wasmerang.wasm";
/** Where the sidecar (istio-proxy) mounts the ConfigMap. */
export const WASM_MOUNT_DIR = "/var/local/wasmerang";
/** The path Envoy loads the module from. */
export const WASM_PATH = `${WASM_MOUNT_DIR}/${WASM_KEY}`;
/** Names of the two EnvoyFilters. */
export const ENVOY_FILTER_NAME = "wasmerang-tcp-routing";
/** The optional HTTP-to-TCP override. */
export const HTTP_OVERRIDE_NAME = "wasmerang-http-override";
/** The label every object of the example carries (`down` deletes by it). */
export const PART_OF_LABEL = {
  "app.kubernetes.io/part-of": "wasmerang",
} as const;
/** The label selector form of {@link PART_OF_LABEL}. */
export const PART_OF_SELECTOR = "app.kubernetes.io/part-of=wasmerang";
/** Kubernetes' limit on a ConfigMap's data (keys plus values), in bytes. */
export const CONFIGMAP_LIMIT = 1024 * 1024;
/** The annotation on the client's pod template that rolls it when the .wasm changes. */
export const FILTER_HASH_ANNOTATION = "wasmerang/filter-sha256";

/**
 * How the filter is installed in the client sidecars: Istio's `WasmPlugin`
 * API (`type: NETWORK`, Istio 1.20+) or an `EnvoyFilter` patch.
 */
export type IstioApi = "wasmplugin" | "envoyfilter";

/** The installation APIs `scaffold istio --api` accepts. */
export const ISTIO_APIS: readonly IstioApi[] = ["wasmplugin", "envoyfilter"];

/** What the scaffold is parameterized by. */
export interface IstioSettings {
  /** How the filter is installed (default `wasmplugin`). */
  api: IstioApi;
  /** Namespace of every object (labelled for sidecar injection by `up`). */
  namespace: string;
  /** The kind cluster's name; kubectl's context is `kind-<name>`. */
  clusterName: string;
  /** Also write the port-80 HTTP-to-TCP override. */
  httpOverride: boolean;
  /**
   * The egress Services (and Deployments) the filter routes to, by name: the
   * first two are the flagship filter's even and odd choice (default
   * `egress1`, `egress2`); each is a DNS-1035 label.
   */
  clusters: readonly string[];
  /**
   * The root id the filter registers and the sidecars start it under: the
   * WasmPlugin's `pluginName`, the EnvoyFilter's `root_id` (default
   * `wasmerang`).
   */
  rootId?: string;
}

/** The settings used when no option is given. */
export const DEFAULT_SETTINGS: Readonly<IstioSettings> = Object.freeze({
  api: "wasmplugin",
  namespace: "default",
  clusterName: "wasmerang",
  httpOverride: false,
  clusters: EGRESS_NAMES,
});

/**
 * The egress names of `scaffold|up istio --cluster`, checked: each names a
 * Deployment and a Service (a DNS-1035 label), none the example's own
 * objects, none twice (default `egress1`, `egress2`).
 */
export function istioClusterNames(
  names: readonly string[] | undefined,
): string[] {
  return scaffoldClusterNames(names, {
    becomes: "a Deployment, a Service and its DNS name",
    taken: {
      [FRONT_SERVICE]: "the Service the client connects to",
      [CLIENT_NAME]: "the client Deployment",
    },
  });
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Checks names given on the command line (usage errors, exit 2). */
export function checkSettings(settings: IstioSettings): IstioSettings {
  if (!ISTIO_APIS.includes(settings.api)) {
    throw new UserError(
      `invalid --api ${quoteText(settings.api)}: use ${
        ISTIO_APIS.join(" or ")
      }`,
      2,
    );
  }
  if (!DNS_LABEL.test(settings.namespace) || settings.namespace.length > 63) {
    throw new UserError(
      `invalid namespace ${
        quoteText(settings.namespace)
      }: use lowercase letters, digits and "-" (at most 63)`,
      2,
    );
  }
  if (
    !DNS_LABEL.test(settings.clusterName) || settings.clusterName.length > 50
  ) {
    throw new UserError(
      `invalid cluster name ${
        quoteText(settings.clusterName)
      }: use lowercase letters, digits and "-" (at most 50)`,
      2,
    );
  }
  istioClusterNames(settings.clusters);
  return settings;
}

/** kubectl's context for the kind cluster. */
export function kubeContext(
  settings: Pick<IstioSettings, "clusterName">,
): string {
  return `kind-${settings.clusterName}`;
}

/** A kubectl command line on the example's cluster: `kubectl --context kind-<cluster> ...args`. */
export function kubectl(
  settings: Pick<IstioSettings, "clusterName">,
  ...args: string[]
): string[] {
  return ["kubectl", "--context", kubeContext(settings), ...args];
}

/** The fully qualified name of a Service in the example's namespace. */
export function serviceHost(name: string, namespace: string): string {
  return `${name}.${namespace}.svc.cluster.local`;
}

/**
 * The WasmPlugin's `pluginConfig`: the filter's JSON configuration as a YAML
 * object (Istio's `google.protobuf.Struct`).
 */
export function pluginConfig(
  settings: Pick<IstioSettings, "namespace"> & Partial<ClusterNames>,
): Record<string, unknown> {
  const clusters = settings.clusters ?? EGRESS_NAMES;
  return {
    mode: "istio",
    namespace: settings.namespace,
    // The flagship's egress1/egress2 unless other names are given.
    ...(areDefaultClusterNames(clusters)
      ? {}
      : { clusters: parityPair(clusters) }),
  };
}

/** The part of the settings that names the egresses. */
type ClusterNames = Pick<IstioSettings, "clusters">;

/**
 * The plugin configuration the filter receives in the sidecar. EnvoyFilter:
 * `istio` in the default namespace, else the JSON form naming the namespace;
 * WasmPlugin: what Istio makes of the `pluginConfig`. The probe parses the
 * same string with `parseFilterConfig` to know what to expect.
 */
export function filterConfiguration(
  settings:
    & Pick<IstioSettings, "namespace">
    & Partial<Pick<IstioSettings, "api" | "clusters">>,
): string {
  if (settings.api === "wasmplugin") {
    return istioPluginConfigString(pluginConfig(settings));
  }
  return settings.namespace === "default" &&
      areDefaultClusterNames(settings.clusters ?? EGRESS_NAMES)
    ? "istio"
    : JSON.stringify(pluginConfig(settings));
}

/** The kind cluster config (`kind create cluster --config`). */
export function kindConfig(settings: IstioSettings): Record<string, unknown> {
  return {
    kind: "Cluster",
    apiVersion: "kind.x-k8s.io/v1alpha4",
    name: settings.clusterName,
    nodes: [{ role: "control-plane", image: KIND_NODE_IMAGE }],
  };
}

/** Size of the filter ConfigMap's data as Kubernetes counts it (keys + raw values). */
export function configMapDataSize(wasm: Uint8Array): number {
  return WASM_KEY.length + wasm.length;
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${(bytes / 1024 / 1024).toFixed(2)} MiB`
    : `${(bytes / 1024).toFixed(1)} KiB`;
}

/**
 * The ConfigMap carrying the .wasm as binaryData. Refuses, with the size, a
 * module that would push the ConfigMap past Kubernetes' 1 MiB.
 */
export function filterConfigMap(
  settings: IstioSettings,
  wasm: Uint8Array,
): ConfigMap {
  const size = configMapDataSize(wasm);
  if (size > CONFIGMAP_LIMIT) {
    throw new UserError(
      `the filter module is ${
        formatBytes(wasm.length)
      } (${wasm.length} bytes): ` +
        `a ConfigMap holds at most 1 MiB (${CONFIGMAP_LIMIT} bytes including its key), ` +
        "so Kubernetes would refuse it; build it smaller (release build, no debug info)",
    );
  }
  return new ConfigMap({
    metadata: {
      name: FILTER_CONFIGMAP,
      namespace: settings.namespace,
      labels: PART_OF_LABEL,
    },
    binaryData: { [WASM_KEY]: Buffer.from(wasm).toString("base64") },
  });
}

/** The routing of the example in a few lines of Markdown (for the README). */
export function routingSummary(settings: IstioSettings): string[] {
  const ns = settings.namespace;
  const cluster = (name: string) =>
    `outbound|${PROBE_PORT}||${serviceHost(name, ns)}`;
  const [even, odd] = parityPair(settings.clusters);
  return [
    `The client connects to \`${FRONT_SERVICE}:${PROBE_PORT}\`. Its sidecar's outbound listener for that`,
    `port ends in tcp_proxy with the cluster \`${
      cluster(FRONT_SERVICE)
    }\`, which`,
    settings.clusters.length === 2
      ? "balances over both egress deployments. The wasm filter runs first and sets the filter"
      : "balances over every egress deployment. The wasm filter runs first and sets the filter",
    `state \`envoy.tcp_proxy.cluster\` to \`${cluster(even)}\` when the`,
    `client pod's IP is even and \`${cluster(odd)}\` when it is odd,`,
    "so each pod always reaches the same egress, which answers with its name.",
  ];
}
