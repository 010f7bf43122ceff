/**
 * The example's workloads: the egress deployments and services, the client
 * deployment, its Sidecar (egress scoping) and NetworkPolicy.
 */
import {
  Deployment,
  type IResourceRequirements,
  type ISecurityContext,
  type IServicePort,
  NetworkPolicy,
  Service,
  Sidecar,
} from "./models.ts";
import {
  BUSYBOX_IMAGE,
  CLIENT_CONTAINER,
  CLIENT_NAME,
  CLIENT_REPLICAS,
  FILTER_CONFIGMAP,
  FILTER_HASH_ANNOTATION,
  FRONT_SERVICE,
  HTTP_PORT,
  type IstioSettings,
  PART_OF_LABEL,
  PROBE_PORT,
  serviceHost,
  WASM_MOUNT_DIR,
} from "./manifests.ts";

const EGRESS_COMPONENT = { "app.kubernetes.io/component": "egress" } as const;

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
 * and runs `sh -c 'echo egress1; exec cat'` for each (the name is a checked
 * DNS label: a plain shell word). No sidecar (injection is
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
 * Sidecar egress scoping for the client: only the front Service and the
 * egress services (so every target cluster is in its CDS, whatever else the
 * mesh holds) and istiod.
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
          ...settings.clusters.map((name) => `${ns}/${serviceHost(name, ns)}`),
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
