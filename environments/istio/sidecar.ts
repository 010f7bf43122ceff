/**
 * How Istio puts the wasm filter into a client sidecar, as data: the Envoy
 * network filter istiod builds from a NETWORK WasmPlugin (or takes from an
 * EnvoyFilter patch), the JSON string it hands the filter for `pluginConfig`,
 * and a bootstrap with the outbound listener it lands in, so that a real Envoy
 * can load (`check`) or run (tests) exactly that.
 *
 * @example
 * ```ts
 * import { istioPluginConfigString } from "./sidecar.ts";
 * istioPluginConfigString({ namespace: "default", mode: "istio" });
 * // '{"mode":"istio","namespace":"default"}'
 * ```
 */
import { isObject, localCodeSources } from "../../checker/envoy_validate.ts";
import { parse } from "yaml";
import { envoyBootstrap } from "../../lib/envoy/bootstrap.ts";
import { istioClusterName } from "../../lib/routing.ts";

/**
 * A bootstrap holding one wasm filter the way Istio places it in a client
 * sidecar's outbound listener: the filter, then tcp_proxy towards
 * `outbound|<port>||egress1.<namespace>.svc.cluster.local`, with both egress
 * clusters defined (on loopback: validation connects nowhere). It is the
 * project's one bootstrap template with Istio's cluster names.
 */
export function sidecarBootstrap(
  wasmFilter: Record<string, unknown>,
  namespace: string,
  port: number,
): Record<string, unknown> {
  const loopback = { address: "127.0.0.1", port };
  return parse(envoyBootstrap({
    writtenBy: "wasmerang check",
    checkCommand: "wasmerang check",
    admin: { address: "127.0.0.1", port: 0 },
    listener: loopback,
    configuration: "istio",
    wasmFilename: "",
    clusters: ["egress1", "egress2"].map((egress) => ({
      name: istioClusterName(port, egress, namespace),
      ...loopback,
    })),
    clusterType: "STATIC",
    wasmFilter,
  })) as Record<string, unknown>;
}

/** A wasm network filter as Istio would put it in a client sidecar. */
export interface SidecarWasmFilter {
  /** The Envoy network filter (name and typed_config). */
  filter: Record<string, unknown>;
  /** The namespace whose Istio cluster names the listener uses. */
  namespace: string;
  /** The listener's port. */
  port: number;
  /** Where it came from, e.g. `configPatches[0]` or `WasmPlugin wasmerang`. */
  source: string;
}

/**
 * The wasm network filters a manifest installs in a client sidecar: an
 * EnvoyFilter's wasm patches, or what Istio makes of a NETWORK WasmPlugin.
 */
export function sidecarWasmFilters(manifest: unknown): SidecarWasmFilter[] {
  if (!isObject(manifest)) return [];
  const metadata = isObject(manifest.metadata) ? manifest.metadata : {};
  const namespace = typeof metadata.namespace === "string"
    ? metadata.namespace
    : "default";
  if (manifest.kind === "WasmPlugin") {
    const filter = wasmPluginFilter(manifest);
    if (!filter) return [];
    const spec = manifest.spec as Record<string, unknown>;
    const ports = (Array.isArray(spec.match) ? spec.match : []).flatMap((
      match,
    ) => isObject(match) && Array.isArray(match.ports) ? match.ports : [])
      .map((port) => isObject(port) ? Number(port.number) : NaN)
      .filter(Number.isInteger);
    return [{
      filter,
      namespace,
      port: ports[0] ?? 9000,
      source: `WasmPlugin ${String(metadata.name ?? "")}`.trim(),
    }];
  }
  if (manifest.kind !== "EnvoyFilter") return [];
  const spec = isObject(manifest.spec) ? manifest.spec : {};
  const patches = Array.isArray(spec.configPatches) ? spec.configPatches : [];
  return patches.flatMap((patch, index) => {
    if (!isObject(patch) || patch.applyTo !== "NETWORK_FILTER") return [];
    const value = isObject(patch.patch) ? patch.patch.value : undefined;
    if (!isObject(value) || localCodeSources(value).length === 0) return [];
    const match = isObject(patch.match) ? patch.match : {};
    const listener = isObject(match.listener) ? match.listener : {};
    const port = typeof listener.portNumber === "number"
      ? listener.portNumber
      : 9000;
    return [{
      filter: value,
      namespace,
      port,
      source: `configPatches[${index}]`,
    }];
  });
}

const FAILURE_POLICIES: Record<string, string> = {
  FAIL_CLOSE: "FAIL_CLOSED",
  FAIL_OPEN: "FAIL_OPEN",
  FAIL_RELOAD: "FAIL_RELOAD",
};

function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.keys(value).sort().map((key) => [key, sortedKeys(value[key])]),
  );
}

/**
 * The string Istio hands a filter for a WasmPlugin's `pluginConfig`: istiod
 * marshals the Struct to JSON (compact, keys sorted, whole numbers without a
 * fraction) into the plugin's `StringValue` configuration.
 */
export function istioPluginConfigString(config: unknown): string {
  return JSON.stringify(sortedKeys(config));
}

/**
 * The Envoy network filter istiod builds for a NETWORK WasmPlugin with a
 * `file://` URL (undefined for other URLs, which only the sidecar's agent can
 * fetch): plugin name `<namespace>.<name>`, root id from `pluginName`,
 * configuration from `pluginConfig`, V8, the local file, the fail strategy.
 */
export function wasmPluginFilter(
  manifest: Record<string, unknown>,
): Record<string, unknown> | undefined {
  const spec = isObject(manifest.spec) ? manifest.spec : {};
  const metadata = isObject(manifest.metadata) ? manifest.metadata : {};
  if (spec.type !== "NETWORK" || typeof spec.url !== "string") return undefined;
  if (!spec.url.startsWith("file://")) return undefined;
  const hasConfig = isObject(spec.pluginConfig) &&
    Object.keys(spec.pluginConfig).length > 0;
  const policy = FAILURE_POLICIES[String(spec.failStrategy)];
  return {
    name: "envoy.filters.network.wasm",
    typed_config: {
      "@type":
        "type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm",
      config: {
        name: `${metadata.namespace ?? "default"}.${metadata.name ?? ""}`,
        root_id: typeof spec.pluginName === "string" ? spec.pluginName : "",
        ...(hasConfig
          ? {
            configuration: {
              "@type": "type.googleapis.com/google.protobuf.StringValue",
              value: istioPluginConfigString(spec.pluginConfig),
            },
          }
          : {}),
        vm_config: {
          runtime: "envoy.wasm.runtime.v8",
          code: { local: { filename: spec.url.slice("file://".length) } },
        },
        ...(policy ? { failure_policy: policy } : {}),
      },
    },
  };
}
