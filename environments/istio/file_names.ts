/** The file names of the Istio example folder. */

/** The kind cluster config. */
export const KIND_CONFIG_FILE = "kind-cluster.yaml";
/** The ConfigMap with the .wasm. */
export const CONFIGMAP_FILE = "filter-configmap.yaml";
/** egress1, egress2 and the `egress` Service. */
export const EGRESS_FILE = "egress.yaml";
/** The client's Sidecar (egress scoping). */
export const SIDECAR_FILE = "sidecar.yaml";
/** The EnvoyFilter inserting the wasm filter. */
export const ENVOY_FILTER_FILE = "envoyfilter.yaml";
/** The WasmPlugin installing the wasm filter. */
export const WASM_PLUGIN_FILE = "wasmplugin.yaml";
/** The port-80 override (only with `--http-override`). */
export const HTTP_OVERRIDE_FILE = "http-override.yaml";
/** The client's NetworkPolicy. */
export const NETWORK_POLICY_FILE = "networkpolicy.yaml";
/** The client deployment. */
export const CLIENT_FILE = "client.yaml";
/** The folder's README. */
export const README_FILE = "README.md";

/** Manifests in the order `up` applies them: the ConfigMap before the pods that mount it. */
export const APPLY_ORDER = [
  CONFIGMAP_FILE,
  EGRESS_FILE,
  SIDECAR_FILE,
  ENVOY_FILTER_FILE,
  WASM_PLUGIN_FILE,
  HTTP_OVERRIDE_FILE,
  NETWORK_POLICY_FILE,
  CLIENT_FILE,
] as const;

/** Files that only some settings write; a folder should hold only its own. */
export const OPTIONAL_FILES = [
  ENVOY_FILTER_FILE,
  WASM_PLUGIN_FILE,
  HTTP_OVERRIDE_FILE,
] as const;
