/**
 * The files of the Istio example (`wasmerang scaffold istio`, and what
 * `examples/istio-k8s/` holds): rendered in memory from the typed manifests,
 * then written all-or-nothing.
 */
import { writeYaml } from "../../lib/yaml_safe.ts";
import { createHash } from "node:crypto";
import {
  clientDeployment,
  clientNetworkPolicy,
  clientSidecar,
  egressDeployment,
  egressService,
  frontService,
} from "./workload_manifests.ts";
import {
  filterConfigMap,
  type IstioSettings,
  kindConfig,
  PROBE_PORT,
} from "./manifests.ts";
import { envoyFilter, httpOverride, wasmPlugin } from "./filter_manifests.ts";
import {
  CLIENT_FILE,
  CONFIGMAP_FILE,
  EGRESS_FILE,
  ENVOY_FILTER_FILE,
  HTTP_OVERRIDE_FILE,
  KIND_CONFIG_FILE,
  NETWORK_POLICY_FILE,
  README_FILE,
  SIDECAR_FILE,
  WASM_PLUGIN_FILE,
} from "./file_names.ts";
import { istioReadme } from "./readme.ts";
import { areDefaultClusterNames } from "../../lib/clusters.ts";

/** A model instance or a plain object, as it goes to YAML. */
type Manifest = { toJSON(): unknown } | Record<string, unknown>;

function plain(manifest: Manifest): unknown {
  return JSON.parse(JSON.stringify(manifest));
}

/**
 * YAML for one or more documents, under a `#` comment header (fixed text,
 * never a user value), each written from data by the YAML library: strings
 * such as a namespace `on` or `null` are quoted, so no reader takes them for
 * booleans or null.
 */
export function yamlFile(header: string, ...manifests: Manifest[]): string {
  const docs = manifests.map((manifest, i) =>
    writeYaml(
      plain(manifest),
      i === 0 ? { comments: [{ path: [], before: header.trim() }] } : {},
    )
  );
  return docs.join("---\n");
}

/** Hex SHA-256 of the module (the client's pod template carries it). */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Every file of the example, by name, in a stable order. Throws a UserError
 * (with the size) when the module does not fit in a ConfigMap.
 */
export function renderIstioFiles(
  settings: IstioSettings,
  wasm: Uint8Array,
): Map<string, string> {
  const files = new Map<string, string>();
  files.set(README_FILE, istioReadme(settings, wasm.length));
  files.set(
    KIND_CONFIG_FILE,
    yamlFile(
      `kind cluster for the wasmerang Istio example:\n  kind create cluster --config ${KIND_CONFIG_FILE}`,
      kindConfig(settings),
    ),
  );
  files.set(
    CONFIGMAP_FILE,
    yamlFile(
      "The filter module as binaryData. The client's istio-proxy mounts it (see\n" +
        "client.yaml) and Envoy loads it from there. Apply it server-side: a client-side\n" +
        "apply copies it into an annotation, which is limited to 256 KiB.",
      filterConfigMap(settings, wasm),
    ),
  );
  files.set(
    EGRESS_FILE,
    yamlFile(
      areDefaultClusterNames(settings.clusters)
        ? "Two egress servers that answer every TCP connection with one line naming\n" +
          'themselves ("egress1" or "egress2"), then echo what they receive, and the\n' +
          `Service "egress" the client connects to, which selects both. Ports named "tcp-..."\n` +
          "so Istio treats them as plain TCP (tcp_proxy, where the filter sits)."
        : "One egress server per cluster that answers every TCP connection with one line\n" +
          "naming itself, then echoes what it receives, its Service, and the Service\n" +
          `"egress" the client connects to, which selects them all. Ports named "tcp-..."\n` +
          "so Istio treats them as plain TCP (tcp_proxy, where the filter sits).",
      ...settings.clusters.flatMap((name) => [
        egressDeployment(settings, name),
        egressService(settings, name),
      ]),
      frontService(settings),
    ),
  );
  files.set(
    SIDECAR_FILE,
    yamlFile(
      "Egress scoping for the client's sidecar: the filter can only pick clusters\n" +
        (areDefaultClusterNames(settings.clusters)
          ? "that are in the sidecar's CDS, so both egress services are listed here."
          : "that are in the sidecar's CDS, so every egress service is listed here."),
      clientSidecar(settings),
    ),
  );
  if (settings.api === "wasmplugin") {
    files.set(
      WASM_PLUGIN_FILE,
      yamlFile(
        "Installs the wasm filter in the client sidecars' outbound listeners for port\n" +
          `${PROBE_PORT}: Istio puts a NETWORK plugin before tcp_proxy itself. Istio hands\n` +
          "pluginConfig to the filter as one JSON string. sha256 is checked by Istio only\n" +
          "for http(s):// and oci:// URLs; for this file:// URL the client pods roll when\n" +
          "the module changes (their wasmerang/filter-sha256 annotation). Check what Istio\n" +
          `made of it: \`istioctl proxy-config listener <client-pod> --port ${PROBE_PORT} -o yaml\`.`,
        wasmPlugin(settings, sha256Hex(wasm)),
      ),
    );
  } else {
    files.set(
      ENVOY_FILTER_FILE,
      yamlFile(
        "Inserts the wasm filter before tcp_proxy in the client sidecar's outbound\n" +
          `listener for port ${PROBE_PORT}. If this match finds nothing, Istio says nothing:\n` +
          `check with \`istioctl proxy-config listener <client-pod> --port ${PROBE_PORT} -o yaml\`.`,
        envoyFilter(settings),
      ),
    );
  }
  if (settings.httpOverride) {
    files.set(
      HTTP_OVERRIDE_FILE,
      yamlFile(
        "HTTP-to-TCP override: port 80 is HTTP to Istio, so its outbound listener ends\n" +
          "in the HTTP connection manager, which has no tcp_proxy for the filter to steer.\n" +
          (settings.api === "envoyfilter"
            ? "These patches put the wasm filter in front and replace the HTTP connection\n"
            : "The WasmPlugin puts the wasm filter in front; this patch replaces the HTTP connection\n") +
          `manager by a tcp_proxy to the "egress" Service, for the client sidecars only.`,
        httpOverride(settings),
      ),
    );
  }
  files.set(
    NETWORK_POLICY_FILE,
    yamlFile(
      "The client may reach DNS, the egress pods and istiod, nothing else.",
      clientNetworkPolicy(settings),
    ),
  );
  files.set(
    CLIENT_FILE,
    yamlFile(
      "Client pods (in the example's namespace) with an istio-proxy sidecar that mounts the filter\n" +
        "ConfigMap. `wasmerang probe istio` runs `nc` in each of them.",
      clientDeployment(settings, sha256Hex(wasm)),
    ),
  );
  return files;
}
