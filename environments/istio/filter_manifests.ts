/**
 * The manifests that install the wasm filter in the client sidecars: the
 * WasmPlugin or the EnvoyFilter, and the port-80 HTTP-to-TCP override.
 */
import { ROOT_ID } from "../../lib/routing.ts";
import { EnvoyFilter, WasmPlugin } from "./models.ts";
import {
  CLIENT_NAME,
  ENVOY_FILTER_NAME,
  filterConfiguration,
  FRONT_SERVICE,
  HTTP_OVERRIDE_NAME,
  HTTP_PORT,
  type IstioSettings,
  PART_OF_LABEL,
  pluginConfig,
  PROBE_PORT,
  serviceHost,
  WASM_PATH,
} from "./manifests.ts";

/**
 * The `typed_config` of `envoy.filters.network.wasm` as the EnvoyFilter inserts
 * it (proto `envoy.extensions.filters.network.wasm.v3.Wasm`).
 */
export function wasmTypedConfig(
  settings:
    & Pick<IstioSettings, "namespace">
    & Partial<Pick<IstioSettings, "clusters" | "rootId">>,
): Record<string, unknown> {
  const rootId = settings.rootId ?? ROOT_ID;
  return {
    "@type":
      "type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm",
    config: {
      name: rootId,
      root_id: rootId,
      configuration: {
        "@type": "type.googleapis.com/google.protobuf.StringValue",
        value: filterConfiguration({ ...settings, api: "envoyfilter" }),
      },
      vm_config: {
        vm_id: rootId,
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
      // Istio gives pluginName to Envoy as the filter's root_id.
      pluginName: settings.rootId ?? ROOT_ID,
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
