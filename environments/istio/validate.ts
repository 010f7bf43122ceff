/**
 * Validation of the Istio example's files: every Kubernetes and Istio manifest
 * against its schema (`kubernetes-models`, `@kubernetes-models/istio`), every
 * Envoy `typed_config` inside an EnvoyFilter against Envoy's own protos
 * (`checker/envoy_check.ts`), the ConfigMap's 1 MiB limit, and the kind cluster
 * config's shape. Issues name the file, the object and the path in it:
 * `egress.yaml: Deployment egress1: spec.replicas: must be integer`.
 */
import { Buffer } from "node:buffer";
import { parseAllDocuments } from "yaml";
import { isObject } from "../../checker/json_values.ts";
import { checkEnvoyMessage, formatPath } from "../../checker/envoy_check.ts";
import {
  ConfigMap,
  Deployment,
  EnvoyFilter,
  NetworkPolicy,
  Service,
  Sidecar,
  WasmPlugin,
} from "./models.ts";
import { CONFIGMAP_LIMIT } from "./manifests.ts";
import { istioPluginConfigString } from "./sidecar.ts";
import { parseFilterConfig, ROOT_ID } from "../../lib/routing.ts";
import { KIND_CONFIG_FILE } from "./file_names.ts";

/** One problem in one file. */
export interface ManifestIssue {
  /** The file the issue is in. */
  file: string;
  /** `Kind name` of the object, or "" for the file itself. */
  object: string;
  /** Path inside the object, e.g. `spec.template.spec.containers[0].image`. */
  path: string;
  /** What is wrong. */
  message: string;
  /** Errors make `up` refuse the folder; warnings are only said. */
  severity: "error" | "warning";
}

type Validatable = { validate(): void };
type ModelClass = new (data: never) => Validatable;

/** The apiVersion/kind pairs the example uses, with their model classes. */
const MODELS: Record<string, ModelClass> = {
  "v1/ConfigMap": ConfigMap as unknown as ModelClass,
  "v1/Service": Service as unknown as ModelClass,
  "apps/v1/Deployment": Deployment as unknown as ModelClass,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy as unknown as ModelClass,
  "networking.istio.io/v1alpha3/EnvoyFilter":
    EnvoyFilter as unknown as ModelClass,
  "networking.istio.io/v1/Sidecar": Sidecar as unknown as ModelClass,
  "extensions.istio.io/v1alpha1/WasmPlugin":
    WasmPlugin as unknown as ModelClass,
};

type Segment = string | number;

/** `/spec/template/0/x` (JSON pointer) → `spec.template[0].x`. */
function pointerPath(pointer: string): string {
  const segments: Segment[] = pointer.split("/").slice(1).map((part) => {
    const text = part.replaceAll("~1", "/").replaceAll("~0", "~");
    return /^[0-9]+$/.test(text) ? Number(text) : text;
  });
  return formatPath(segments);
}

interface AjvError {
  instancePath: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

function describe(error: AjvError): string {
  const allowed = error.params?.allowedValues;
  const base = error.message ?? "is invalid";
  return Array.isArray(allowed) ? `${base} (${allowed.join(", ")})` : base;
}

/** Validates one parsed manifest; `file` only labels the issues. */
export function validateManifest(
  manifest: unknown,
  file: string,
  expect: ValidateExpectations = {},
): ManifestIssue[] {
  if (!isObject(manifest)) {
    return [{
      file,
      object: "",
      path: "",
      message: "not a Kubernetes object",
      severity: "error",
    }];
  }
  const { apiVersion, kind } = manifest;
  const name = isObject(manifest.metadata)
    ? String(manifest.metadata.name ?? "")
    : "";
  const object = `${String(kind ?? "?")} ${name}`.trim();
  const issues: ManifestIssue[] = [];
  const issue = (
    path: string,
    message: string,
    severity: "error" | "warning" = "error",
  ) => issues.push({ file, object, path, message, severity });
  if (typeof apiVersion !== "string" || typeof kind !== "string") {
    issue("", "apiVersion and kind are required");
    return issues;
  }
  const Model = MODELS[`${apiVersion}/${kind}`];
  if (!Model) {
    issue(
      "",
      `${apiVersion} ${kind} is not one wasmerang validates; not checked`,
      "warning",
    );
    return issues;
  }
  try {
    new Model(manifest as never).validate();
  } catch (error) {
    const errors = (error as { errors?: AjvError[] }).errors;
    if (!Array.isArray(errors)) throw error;
    const seen = new Set<string>();
    for (const item of errors) {
      const key = `${item.instancePath} ${describe(item)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      issue(pointerPath(item.instancePath), describe(item));
    }
  }
  if (kind === "ConfigMap" && isObject(manifest.binaryData)) {
    let size = 0;
    for (const [key, value] of Object.entries(manifest.binaryData)) {
      size += key.length +
        (typeof value === "string" ? Buffer.from(value, "base64").length : 0);
    }
    for (
      const [key, value] of Object.entries(
        isObject(manifest.data) ? manifest.data : {},
      )
    ) {
      size += key.length + String(value).length;
    }
    if (size > CONFIGMAP_LIMIT) {
      issue(
        "binaryData",
        `holds ${size} bytes; a ConfigMap holds at most ${CONFIGMAP_LIMIT} (1 MiB)`,
      );
    }
  }
  if (kind === "EnvoyFilter") {
    issues.push(...checkEnvoyPatches(manifest, file, object));
  }
  if (kind === "WasmPlugin" && issues.length === 0) {
    checkWasmPlugin(manifest, issue, expect.rootId ?? ROOT_ID);
  }
  return issues;
}

/**
 * What the schema cannot say about a WasmPlugin for this filter: it must be a
 * NETWORK plugin, its pluginName is the root id the filter registers, and its
 * pluginConfig, as the JSON string Istio hands the filter, is a configuration
 * the filter accepts.
 */
function checkWasmPlugin(
  manifest: Record<string, unknown>,
  issue: (
    path: string,
    message: string,
    severity?: "error" | "warning",
  ) => void,
  rootId: string,
): void {
  const spec = isObject(manifest.spec) ? manifest.spec : {};
  if (spec.type !== "NETWORK") {
    issue(
      "spec.type",
      `is ${
        spec.type === undefined ? "unset (HTTP)" : `"${spec.type}"`
      }: an HTTP plugin never sees a TCP connection; set type: NETWORK`,
    );
  }
  if (spec.pluginName !== rootId) {
    issue(
      "spec.pluginName",
      `is ${
        spec.pluginName === undefined ? "unset" : `"${spec.pluginName}"`
      }, but the ${
        rootId === ROOT_ID ? "wasmerang filter" : "example's filter"
      } registers the root id "${rootId}": Envoy would not find its root context`,
      "warning",
    );
  }
  if (spec.pluginConfig !== undefined) {
    const text = istioPluginConfigString(spec.pluginConfig);
    try {
      parseFilterConfig(text);
    } catch (error) {
      issue(
        "spec.pluginConfig",
        `the filter would refuse ${text}: ${(error as Error).message}`,
      );
    }
  }
}

/** Every `typed_config` in the patches, through Envoy's protos. */
function checkEnvoyPatches(
  manifest: Record<string, unknown>,
  file: string,
  object: string,
): ManifestIssue[] {
  const issues: ManifestIssue[] = [];
  const spec = isObject(manifest.spec) ? manifest.spec : {};
  const patches = Array.isArray(spec.configPatches) ? spec.configPatches : [];
  patches.forEach((patch, index) => {
    const value = isObject(patch) && isObject(patch.patch)
      ? patch.patch.value
      : undefined;
    if (!isObject(value)) return;
    const typed = value.typed_config ?? value.typedConfig;
    const key = value.typed_config !== undefined
      ? "typed_config"
      : "typedConfig";
    const base: Segment[] = [
      "spec",
      "configPatches",
      index,
      "patch",
      "value",
      key,
    ];
    if (typed === undefined) return;
    if (!isObject(typed) || typeof typed["@type"] !== "string") {
      issues.push({
        file,
        object,
        path: formatPath(base),
        message: 'needs an "@type"',
        severity: "error",
      });
      return;
    }
    for (const found of checkEnvoyMessage(typed["@type"], typed, base)) {
      issues.push({
        file,
        object,
        path: found.path,
        message: found.message,
        severity: found.severity,
      });
    }
  });
  return issues;
}

const KIND_TOP_KEYS = new Set([
  "kind",
  "apiVersion",
  "name",
  "nodes",
  "networking",
  "featureGates",
  "runtimeConfig",
  "kubeadmConfigPatches",
  "kubeadmConfigPatchesJSON6902",
  "containerdConfigPatches",
  "containerdConfigPatchesJSON6902",
]);
const KIND_NODE_KEYS = new Set([
  "role",
  "image",
  "labels",
  "extraMounts",
  "extraPortMappings",
  "kubeadmConfigPatches",
  "kubeadmConfigPatchesJSON6902",
]);

/** The kind cluster config (`kind.x-k8s.io/v1alpha4` Cluster): shape and names. */
export function validateKindConfig(
  config: unknown,
  file: string,
): ManifestIssue[] {
  const issues: ManifestIssue[] = [];
  const issue = (path: string, message: string) =>
    issues.push({ file, object: "Cluster", path, message, severity: "error" });
  if (!isObject(config)) {
    issue("", "not a kind cluster config");
    return issues;
  }
  if (config.apiVersion !== "kind.x-k8s.io/v1alpha4") {
    issue("apiVersion", "must be kind.x-k8s.io/v1alpha4");
  }
  if (config.kind !== "Cluster") issue("kind", "must be Cluster");
  for (const key of Object.keys(config)) {
    if (!KIND_TOP_KEYS.has(key)) issue(key, "unknown field");
  }
  if (
    config.name !== undefined &&
    (typeof config.name !== "string" || !/^[a-z0-9-]+$/.test(config.name))
  ) {
    issue("name", "must be lowercase letters, digits and -");
  }
  const nodes = config.nodes;
  if (nodes !== undefined && !Array.isArray(nodes)) {
    issue("nodes", "must be a list");
  }
  (Array.isArray(nodes) ? nodes : []).forEach((node, index) => {
    const at = (key: string) => formatPath(["nodes", index, key]);
    if (!isObject(node)) {
      return issue(formatPath(["nodes", index]), "must be an object");
    }
    if (node.role !== "control-plane" && node.role !== "worker") {
      issue(at("role"), "must be control-plane or worker");
    }
    if (node.image !== undefined && typeof node.image !== "string") {
      issue(at("image"), "must be a string");
    }
    for (const key of Object.keys(node)) {
      if (!KIND_NODE_KEYS.has(key)) issue(at(key), "unknown field");
    }
  });
  if (
    Array.isArray(nodes) &&
    !nodes.some((node) => isObject(node) && node.role === "control-plane")
  ) {
    issue("nodes", "needs a control-plane node");
  }
  return issues;
}

/** What the checks expect of the example beyond the schemas. */
export interface ValidateExpectations {
  /** The root id the module registers, for the WasmPlugin's `pluginName` (default `wasmerang`). */
  rootId?: string;
}

/** Every YAML document of one file: kind config or manifests, by file name. */
export function validateYamlFile(
  file: string,
  text: string,
  expect: ValidateExpectations = {},
): ManifestIssue[] {
  const issues: ManifestIssue[] = [];
  const docs = parseAllDocuments(text);
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length > 0) {
      issues.push({
        file,
        object: "",
        path: "",
        message: doc.errors[0].message,
        severity: "error",
      });
      continue;
    }
    const value = doc.toJS();
    if (value === null || value === undefined) continue;
    issues.push(
      ...(file.endsWith(KIND_CONFIG_FILE)
        ? validateKindConfig(value, file)
        : validateManifest(value, file, expect)),
    );
  }
  return issues;
}

/** All `.yaml` files of a rendered example (README and others skipped). */
export function validateIstioFiles(
  files: Map<string, string>,
  expect: ValidateExpectations = {},
): ManifestIssue[] {
  return [...files].filter(([name]) => name.endsWith(".yaml"))
    .flatMap(([name, text]) => validateYamlFile(name, text, expect));
}

/** One line per issue: `file: object: path: message`. */
export function renderManifestIssues(issues: ManifestIssue[]): string {
  return issues.map((item) =>
    [item.file, item.object, item.path].filter((part) => part !== "").join(
      ": ",
    ) +
    `: ${item.severity === "warning" ? "warning: " : ""}${item.message}`
  ).join("\n");
}
