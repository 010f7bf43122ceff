/**
 * The settings of the Istio example: from the options, or read back from a
 * scaffolded folder (`up`, `probe`, `down` find the example with them).
 */
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { isDnsLabel } from "../../lib/clusters.ts";
import { UserError } from "../../lib/errors.ts";
import {
  CONFIGMAP_FILE,
  EGRESS_FILE,
  ENVOY_FILTER_FILE,
  HTTP_OVERRIDE_FILE,
  KIND_CONFIG_FILE,
  WASM_PLUGIN_FILE,
} from "./file_names.ts";
import { ROOT_ID } from "../../lib/routing.ts";
import { checkedRootId } from "../../lib/running_filter.ts";
import {
  checkSettings,
  DEFAULT_SETTINGS,
  FRONT_SERVICE,
  type IstioApi,
  istioClusterNames,
  type IstioSettings,
} from "./manifests.ts";
import { exists } from "../../lib/files.ts";

/** Where `scaffold istio` writes and `up istio` reads, unless `--dir` says otherwise. */
export const DEFAULT_ISTIO_DIR = "istio-k8s";

/** The settings the options ask for, defaults filled in and checked. */
export function settingsFrom(
  options: {
    api?: string;
    namespace?: string;
    clusterName?: string;
    httpOverride?: boolean;
    /** The egress names (`--cluster`, repeatable; default egress1, egress2). */
    cluster?: readonly string[];
    /** The filter's root id (default `wasmerang`). */
    rootId?: string;
  },
): IstioSettings {
  return checkSettings({
    api: (options.api ?? DEFAULT_SETTINGS.api) as IstioApi,
    namespace: options.namespace ?? DEFAULT_SETTINGS.namespace,
    clusterName: options.clusterName ?? DEFAULT_SETTINGS.clusterName,
    httpOverride: options.httpOverride ?? DEFAULT_SETTINGS.httpOverride,
    clusters: istioClusterNames(options.cluster),
    ...(options.rootId === undefined || options.rootId === ROOT_ID
      ? {}
      : { rootId: checkedRootId(options.rootId) }),
  });
}

/**
 * The root id a scaffolded folder starts the filter under: its WasmPlugin's
 * `pluginName`, else its EnvoyFilter's first `root_id`; undefined when
 * neither names one.
 */
function folderRootId(
  wasmPlugin: string | undefined,
  envoyFilter: string | undefined,
): string | undefined {
  const named = (value: unknown) =>
    typeof value === "string" && value !== "" ? value : undefined;
  const docs = (text: string | undefined): Record<string, unknown>[] => {
    if (text === undefined) return [];
    try {
      return parseAllDocuments(text).map((doc) => doc.toJSON())
        .filter((doc) => doc !== null && typeof doc === "object");
    } catch {
      return [];
    }
  };
  for (const doc of docs(wasmPlugin)) {
    const name = named((doc.spec as { pluginName?: unknown })?.pluginName);
    if (doc.kind === "WasmPlugin" && name !== undefined) return name;
  }
  for (const doc of docs(envoyFilter)) {
    const patches = (doc.spec as { configPatches?: unknown })?.configPatches;
    for (const patch of Array.isArray(patches) ? patches : []) {
      const name = named(
        patch?.patch?.value?.typed_config?.config?.root_id,
      );
      if (name !== undefined) return name;
    }
  }
  return undefined;
}

/**
 * The egress names of a scaffolded folder: its egress.yaml's Services other
 * than the front one, in order (the parity example's when there are none,
 * or when one is not a name a scaffold writes).
 */
function egressNames(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  let names: string[];
  try {
    names = parseAllDocuments(text).map((doc) => doc.toJSON())
      .filter((doc) => doc?.kind === "Service")
      .map((doc) => doc?.metadata?.name)
      .filter((name) => name !== FRONT_SERVICE);
  } catch {
    return undefined;
  }
  return names.length > 0 &&
      names.every((name) => typeof name === "string" && isDnsLabel(name))
    ? names
    : undefined;
}

/** The text of `path`, or `undefined` when there is no such file. */
export async function readText(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/**
 * The settings a scaffolded folder was written with: the cluster name from
 * its kind config, the namespace from its ConfigMap, the egress names from
 * egress.yaml, the HTTP override and the installation API from the presence
 * of their files. `undefined` when `dir` holds no Istio example.
 */
export async function readScaffoldSettings(
  dir: string,
): Promise<IstioSettings | undefined> {
  const kind = await readText(join(dir, KIND_CONFIG_FILE));
  const configMap = await readText(join(dir, CONFIGMAP_FILE));
  if (kind === undefined || configMap === undefined) return undefined;
  const clusterName = (parse(kind) as { name?: string } | null)?.name ??
    DEFAULT_SETTINGS.clusterName;
  const namespace =
    (parse(configMap) as { metadata?: { namespace?: string } } | null)?.metadata
      ?.namespace ??
      DEFAULT_SETTINGS.namespace;
  return checkSettings({
    api: await exists(join(dir, ENVOY_FILTER_FILE))
      ? "envoyfilter"
      : "wasmplugin",
    clusterName,
    namespace,
    httpOverride: await exists(join(dir, HTTP_OVERRIDE_FILE)),
    clusters: egressNames(await readText(join(dir, EGRESS_FILE))) ??
      DEFAULT_SETTINGS.clusters,
    ...rootIdOf(
      folderRootId(
        await readText(join(dir, WASM_PLUGIN_FILE)),
        await readText(join(dir, ENVOY_FILTER_FILE)),
      ),
    ),
  });
}

/** `{ rootId }` unless it is undefined or the default. */
function rootIdOf(rootId: string | undefined): { rootId?: string } {
  return rootId === undefined || rootId === ROOT_ID ? {} : { rootId };
}

/** Options shared by `probe istio` and `down istio` to find the example. */
export interface IstioTargetOptions {
  /** A scaffolded folder to read the namespace and cluster name from (default istio-k8s, if present). */
  dir?: string;
  /** The example's namespace (default: the folder's, else `default`). */
  namespace?: string;
  /** The kind cluster (default: the folder's, else `wasmerang`). */
  clusterName?: string;
}

/** The settings of the example `probe` and `down` work on: the options, else the folder's. */
export async function targetSettings(
  options: IstioTargetOptions,
): Promise<IstioSettings> {
  const fromDir = await readScaffoldSettings(options.dir ?? DEFAULT_ISTIO_DIR);
  if (options.dir !== undefined && fromDir === undefined) {
    throw new UserError(
      `${options.dir} holds no Istio example (no ${KIND_CONFIG_FILE} and ${CONFIGMAP_FILE})`,
      2,
    );
  }
  return settingsFrom({
    namespace: options.namespace ?? fromDir?.namespace,
    clusterName: options.clusterName ?? fromDir?.clusterName,
    httpOverride: fromDir?.httpOverride,
    api: fromDir?.api,
    cluster: fromDir?.clusters,
    rootId: fromDir?.rootId,
  });
}
