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
import {
  ConfigMap,
  Deployment,
  EnvoyFilter,
  type IResourceRequirements,
  type ISecurityContext,
  type IServicePort,
  NetworkPolicy,
  Service,
  Sidecar,
  WasmPlugin,
} from "./models.ts";
import { UserError } from "../../lib/errors.ts";
import { ROOT_ID } from "../../lib/routing.ts";
import { istioPluginConfigString } from "./sidecar.ts";

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
/** The two egress deployments and services, `[even, odd]` as the filter chooses. */
export const EGRESS_NAMES = ["egress1", "egress2"] as const;
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

const EGRESS_COMPONENT = { "app.kubernetes.io/component": "egress" } as const;

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
}

/** The settings used when no option is given. */
export const DEFAULT_SETTINGS: Readonly<IstioSettings> = Object.freeze({
  api: "wasmplugin",
  namespace: "default",
  clusterName: "wasmerang",
  httpOverride: false,
});

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Checks names given on the command line (usage errors, exit 2). */
export function checkSettings(settings: IstioSettings): IstioSettings {
  if (!ISTIO_APIS.includes(settings.api)) {
    throw new UserError(
      `invalid --api "${settings.api}": use ${ISTIO_APIS.join(" or ")}`,
      2,
    );
  }
  if (!DNS_LABEL.test(settings.namespace) || settings.namespace.length > 63) {
    throw new UserError(
      `invalid namespace "${settings.namespace}": use lowercase letters, digits and "-" (at most 63)`,
      2,
    );
  }
  if (
    !DNS_LABEL.test(settings.clusterName) || settings.clusterName.length > 50
  ) {
    throw new UserError(
      `invalid cluster name "${settings.clusterName}": use lowercase letters, digits and "-" (at most 50)`,
      2,
    );
  }
  return settings;
}

/** kubectl's context for the kind cluster. */
export function kubeContext(
  settings: Pick<IstioSettings, "clusterName">,
): string {
  return `kind-${settings.clusterName}`;
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
  settings: Pick<IstioSettings, "namespace">,
): Record<string, unknown> {
  return { mode: "istio", namespace: settings.namespace };
}

/**
 * The plugin configuration the filter receives in the sidecar. EnvoyFilter:
 * `istio` in the default namespace, else the JSON form naming the namespace;
 * WasmPlugin: what Istio makes of the `pluginConfig`. The probe parses the
 * same string with `parseFilterConfig` to know what to expect.
 */
export function filterConfiguration(
  settings:
    & Pick<IstioSettings, "namespace">
    & Partial<Pick<IstioSettings, "api">>,
): string {
  if (settings.api === "wasmplugin") {
    return istioPluginConfigString(pluginConfig(settings));
  }
  return settings.namespace === "default"
    ? "istio"
    : JSON.stringify({ mode: "istio", namespace: settings.namespace });
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

/**
 * The `typed_config` of `envoy.filters.network.wasm` as the EnvoyFilter inserts
 * it (proto `envoy.extensions.filters.network.wasm.v3.Wasm`).
 */
export function wasmTypedConfig(
  settings: Pick<IstioSettings, "namespace">,
): Record<string, unknown> {
  return {
    "@type":
      "type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm",
    config: {
      name: ROOT_ID,
      root_id: ROOT_ID,
      configuration: {
        "@type": "type.googleapis.com/google.protobuf.StringValue",
        value: filterConfiguration({ ...settings, api: "envoyfilter" }),
      },
      vm_config: {
        vm_id: ROOT_ID,
        runtime: "envoy.wasm.runtime.v8",
        code: { local: { filename: WASM_PATH } },
      },
    },
  };
}

/**
 * The `typed_config` of the tcp_proxy that replaces the port-80 HTTP connection
 * manager under `--http-override` (proto
 * `envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy`).
 */
export function httpOverrideTcpProxyConfig(
  settings: IstioSettings,
): Record<string, unknown> {
  return {
    "@type":
      "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
    stat_prefix: "wasmerang_http_override",
    cluster: `outbound|${HTTP_PORT}||${
      serviceHost(FRONT_SERVICE, settings.namespace)
    }`,
  };
}

function wasmFilter(settings: IstioSettings) {
  return {
    name: "envoy.filters.network.wasm",
    typed_config: wasmTypedConfig(settings),
  };
}

/**
 * An explicit priority: the patches are relative (INSERT_BEFORE, REPLACE), and
 * `istioctl analyze` asks for one then (IST0151). Within one EnvoyFilter Istio
 * applies the patches in list order.
 */
export const ENVOY_FILTER_PRIORITY = 10;

/** The EnvoyFilter: the wasm filter before tcp_proxy, client sidecars, probe port. */
export function envoyFilter(settings: IstioSettings): EnvoyFilter {
  return new EnvoyFilter({
    metadata: {
      name: ENVOY_FILTER_NAME,
      namespace: settings.namespace,
      labels: PART_OF_LABEL,
    },
    spec: {
      workloadSelector: { labels: { app: CLIENT_NAME } },
      priority: ENVOY_FILTER_PRIORITY,
      configPatches: [{
        applyTo: "NETWORK_FILTER",
        match: {
          context: "SIDECAR_OUTBOUND",
          listener: {
            portNumber: PROBE_PORT,
            filterChain: {
              filter: { name: "envoy.filters.network.tcp_proxy" },
            },
          },
        },
        patch: { operation: "INSERT_BEFORE", value: wasmFilter(settings) },
      }],
    },
  });
}

/** The WasmPlugin's name. */
export const WASM_PLUGIN_NAME = "wasmerang";

/** Among plugins of one phase, Istio runs the higher priority first. */
export const WASM_PLUGIN_PRIORITY = 10;

/** The ports whose outbound listeners get the filter. */
export function filteredPorts(settings: IstioSettings): number[] {
  return settings.httpOverride ? [PROBE_PORT, HTTP_PORT] : [PROBE_PORT];
}

/**
 * The WasmPlugin: a `NETWORK` plugin for the client pods' outbound (CLIENT)
 * listeners on the probe port, loaded from the ConfigMap mounted into the
 * sidecar. Istio places every network plugin before the terminal filter
 * (tcp_proxy); with no phase it goes last among them, after Istio's own
 * authorization, so a connection that RBAC denies is never routed.
 * `FAIL_CLOSE`: if the module cannot load, connections fail instead of
 * silently reaching the balanced `egress` Service.
 */
export function wasmPlugin(
  settings: IstioSettings,
  sha256: string,
): WasmPlugin {
  return new WasmPlugin({
    metadata: {
      name: WASM_PLUGIN_NAME,
      namespace: settings.namespace,
      labels: PART_OF_LABEL,
    },
    spec: {
      selector: { matchLabels: { app: CLIENT_NAME } },
      type: "NETWORK",
      url: `file://${WASM_PATH}`,
      sha256,
      pluginName: ROOT_ID,
      pluginConfig: pluginConfig(settings),
      phase: "UNSPECIFIED_PHASE",
      priority: WASM_PLUGIN_PRIORITY,
      failStrategy: "FAIL_CLOSE",
      match: [{
        mode: "CLIENT",
        ports: filteredPorts(settings).map((number) => ({ number })),
      }],
    },
  });
}

/**
 * The HTTP-to-TCP override: port 80 is HTTP to Istio, so its outbound listener
 * ends in the HTTP connection manager and has no tcp_proxy for the filter to
 * steer. The patches, in order: insert the wasm filter before the HCM (with
 * the EnvoyFilter API; a WasmPlugin puts it there itself), then replace the
 * HCM by a tcp_proxy whose default cluster is the `egress` Service.
 */
export function httpOverride(settings: IstioSettings): EnvoyFilter {
  const match = {
    context: "SIDECAR_OUTBOUND" as const,
    listener: {
      portNumber: HTTP_PORT,
      filterChain: {
        filter: { name: "envoy.filters.network.http_connection_manager" },
      },
    },
  };
  return new EnvoyFilter({
    metadata: {
      name: HTTP_OVERRIDE_NAME,
      namespace: settings.namespace,
      labels: PART_OF_LABEL,
    },
    spec: {
      workloadSelector: { labels: { app: CLIENT_NAME } },
      priority: ENVOY_FILTER_PRIORITY,
      configPatches: [
        ...(settings.api === "envoyfilter"
          ? [{
            applyTo: "NETWORK_FILTER" as const,
            match,
            patch: {
              operation: "INSERT_BEFORE" as const,
              value: wasmFilter(settings),
            },
          }]
          : []),
        {
          applyTo: "NETWORK_FILTER",
          match,
          patch: {
            operation: "REPLACE",
            value: {
              name: "envoy.filters.network.tcp_proxy",
              typed_config: httpOverrideTcpProxyConfig(settings),
            },
          },
        },
      ],
    },
  });
}

const RESTRICTED_CONTAINER: ISecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  runAsUser: 65534,
  runAsGroup: 65534,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};

const SMALL: IResourceRequirements = {
  requests: { cpu: "10m", memory: "16Mi" },
  limits: { memory: "32Mi" },
};

function servicePorts(settings: IstioSettings): IServicePort[] {
  const ports: IServicePort[] = [{
    name: "tcp-echo",
    appProtocol: "tcp",
    port: PROBE_PORT,
    targetPort: PROBE_PORT,
    protocol: "TCP",
  }];
  if (settings.httpOverride) {
    ports.push({
      name: "http",
      appProtocol: "http",
      port: HTTP_PORT,
      targetPort: PROBE_PORT,
      protocol: "TCP",
    });
  }
  return ports;
}

/**
 * An egress server: for every TCP connection, one line with its own name, then
 * an echo of whatever the client sends. busybox's `tcpsvd` accepts connections
 * and runs `sh -c 'echo egress1; exec cat'` for each. No sidecar (injection is
 * off for these pods): the client's sidecar talks plain TCP to them.
 */
export function egressDeployment(
  settings: IstioSettings,
  name: string,
): Deployment {
  const labels = { app: name, ...EGRESS_COMPONENT, ...PART_OF_LABEL };
  return new Deployment({
    metadata: { name, namespace: settings.namespace, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { ...labels, "sidecar.istio.io/inject": "false" } },
        spec: {
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: 2,
          containers: [{
            name: "server",
            image: BUSYBOX_IMAGE,
            command: [
              "tcpsvd",
              "-E",
              "0.0.0.0",
              String(PROBE_PORT),
              "sh",
              "-c",
              `echo ${name}; exec cat`,
            ],
            ports: [{
              name: "tcp-echo",
              containerPort: PROBE_PORT,
              protocol: "TCP",
            }],
            readinessProbe: {
              tcpSocket: { port: PROBE_PORT },
              periodSeconds: 2,
            },
            resources: SMALL,
            securityContext: RESTRICTED_CONTAINER,
          }],
        },
      },
    },
  });
}

/** The Service of one egress deployment (its cluster is the filter's target). */
export function egressService(settings: IstioSettings, name: string): Service {
  return new Service({
    metadata: {
      name,
      namespace: settings.namespace,
      labels: { app: name, ...PART_OF_LABEL },
    },
    spec: { selector: { app: name }, ports: servicePorts(settings) },
  });
}

/**
 * The Service the client connects to. It selects both egress deployments, so
 * without the filter answers come from either at random: a probe then shows
 * the EnvoyFilter did not apply.
 */
export function frontService(settings: IstioSettings): Service {
  return new Service({
    metadata: {
      name: FRONT_SERVICE,
      namespace: settings.namespace,
      labels: { app: FRONT_SERVICE, ...PART_OF_LABEL },
    },
    spec: { selector: EGRESS_COMPONENT, ports: servicePorts(settings) },
  });
}

/**
 * The client: busybox replicas that sleep, with the sidecar annotations that
 * mount the filter ConfigMap into istio-proxy. The probe `kubectl exec`s `nc`
 * in them. The pod template carries the module's SHA-256, so a new .wasm rolls
 * the pods (Envoy reads the file when the listener is built).
 */
export function clientDeployment(
  settings: IstioSettings,
  wasmSha256: string,
): Deployment {
  const labels = { app: CLIENT_NAME, ...PART_OF_LABEL };
  return new Deployment({
    metadata: { name: CLIENT_NAME, namespace: settings.namespace, labels },
    spec: {
      replicas: CLIENT_REPLICAS,
      selector: { matchLabels: { app: CLIENT_NAME } },
      template: {
        metadata: {
          labels: { ...labels, "sidecar.istio.io/inject": "true" },
          annotations: {
            "sidecar.istio.io/userVolume": JSON.stringify([
              { name: FILTER_CONFIGMAP, configMap: { name: FILTER_CONFIGMAP } },
            ]),
            "sidecar.istio.io/userVolumeMount": JSON.stringify([
              {
                name: FILTER_CONFIGMAP,
                mountPath: WASM_MOUNT_DIR,
                readOnly: true,
              },
            ]),
            [FILTER_HASH_ANNOTATION]: wasmSha256,
          },
        },
        spec: {
          terminationGracePeriodSeconds: 2,
          containers: [{
            name: CLIENT_CONTAINER,
            image: BUSYBOX_IMAGE,
            command: [
              "sh",
              "-c",
              "trap 'exit 0' TERM; while true; do sleep 3600 & wait $!; done",
            ],
            resources: SMALL,
            securityContext: RESTRICTED_CONTAINER,
          }],
        },
      },
    },
  });
}

/**
 * Sidecar egress scoping for the client: only the three services (so both
 * target clusters are in its CDS, whatever else the mesh holds) and istiod.
 */
export function clientSidecar(settings: IstioSettings): Sidecar {
  const ns = settings.namespace;
  return new Sidecar({
    metadata: { name: CLIENT_NAME, namespace: ns, labels: PART_OF_LABEL },
    spec: {
      workloadSelector: { labels: { app: CLIENT_NAME } },
      egress: [{
        hosts: [
          `${ns}/${serviceHost(FRONT_SERVICE, ns)}`,
          ...EGRESS_NAMES.map((name) => `${ns}/${serviceHost(name, ns)}`),
          "istio-system/*",
        ],
      }],
    },
  });
}

/**
 * The client may reach DNS, the egress pods (on the port the Services target)
 * and istiod (xDS and certificates on 15012), nothing else.
 */
export function clientNetworkPolicy(settings: IstioSettings): NetworkPolicy {
  const namespaceNamed = (name: string) => ({
    matchLabels: { "kubernetes.io/metadata.name": name },
  });
  return new NetworkPolicy({
    metadata: {
      name: CLIENT_NAME,
      namespace: settings.namespace,
      labels: PART_OF_LABEL,
    },
    spec: {
      podSelector: { matchLabels: { app: CLIENT_NAME } },
      policyTypes: ["Egress"],
      egress: [
        {
          to: [{
            namespaceSelector: namespaceNamed("kube-system"),
            podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
          }],
          ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }],
        },
        {
          to: [{ podSelector: { matchLabels: EGRESS_COMPONENT } }],
          ports: [{ protocol: "TCP", port: PROBE_PORT }],
        },
        {
          to: [{
            namespaceSelector: namespaceNamed("istio-system"),
            podSelector: { matchLabels: { app: "istiod" } },
          }],
          ports: [{ protocol: "TCP", port: 15012 }],
        },
      ],
    },
  });
}

/** The routing of the example in a few lines of Markdown (for the README). */
export function routingSummary(settings: IstioSettings): string[] {
  const ns = settings.namespace;
  const cluster = (name: string) =>
    `outbound|${PROBE_PORT}||${serviceHost(name, ns)}`;
  return [
    `The client connects to \`${FRONT_SERVICE}:${PROBE_PORT}\`. Its sidecar's outbound listener for that`,
    `port ends in tcp_proxy with the cluster \`${
      cluster(FRONT_SERVICE)
    }\`, which`,
    "balances over both egress deployments. The wasm filter runs first and sets the filter",
    `state \`envoy.tcp_proxy.cluster\` to \`${
      cluster(EGRESS_NAMES[0])
    }\` when the`,
    `client pod's IP is even and \`${
      cluster(EGRESS_NAMES[1])
    }\` when it is odd,`,
    "so each pod always reaches the same egress, which answers with its name.",
  ];
}
