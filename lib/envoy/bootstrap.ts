/**
 * The one Envoy bootstrap the project writes, for the Docker example's
 * `envoy.yaml` and for the native `envoy` environment: one listener with the
 * wasm filter (V8, root id `wasmerang`) before tcp_proxy (default cluster: the
 * first), the access-log format the local mode prints, and the admin address.
 *
 * @module
 */
import { ROOT_ID } from "../routing.ts";

/** The access log line, the same fields the local mode prints. */
export const ENVOY_ACCESS_LOG_FORMAT: string =
  "[%START_TIME%] cluster=%UPSTREAM_CLUSTER% src=%DOWNSTREAM_REMOTE_ADDRESS% " +
  "dst=%DOWNSTREAM_LOCAL_ADDRESS% -> %UPSTREAM_HOST% bytes=%BYTES_RECEIVED%/%BYTES_SENT% %DURATION%ms\n";

/** An upstream cluster: its name and the one endpoint it sends to. */
export interface BootstrapCluster {
  /** The cluster's name (tcp_proxy's and the filter's). */
  name: string;
  /** The endpoint's address or DNS name. */
  address: string;
  /** The endpoint's port. */
  port: number;
}

/** What differs between the Docker example and the native environment. */
export interface BootstrapOptions {
  /** The command that wrote the file, named in its first comment line. */
  writtenBy: string;
  /** How to check the file, for the header comment (e.g. `wasmerang check envoy.yaml`). */
  checkCommand: string;
  /** Where Envoy's admin listens. */
  admin: { address: string; port: number };
  /** Where the listener (wasm filter, then tcp_proxy) listens. */
  listener: { address: string; port: number };
  /** The plugin configuration (`standalone`, `istio` or JSON). */
  configuration: string;
  /** The module's path as Envoy sees it. */
  wasmFilename: string;
  /** The clusters; tcp_proxy's default is the first. */
  clusters: readonly BootstrapCluster[];
  /** `STRICT_DNS` for names Docker's DNS resolves, `STATIC` for addresses. */
  clusterType: "STRICT_DNS" | "STATIC";
  /**
   * The whole `envoy.filters.network.wasm` filter (name and typed_config), when
   * it comes from elsewhere (an EnvoyFilter's patch); default: the project's.
   */
  wasmFilter?: Record<string, unknown>;
  /**
   * The whole tcp_proxy filter, when it comes from elsewhere (an EnvoyFilter's
   * patch); default: the project's, with the access log.
   */
  tcpProxyFilter?: Record<string, unknown>;
}

function scalar(text: string): string {
  return /^[A-Za-z][A-Za-z0-9_.-]*$/.test(text) ? text : JSON.stringify(text);
}

function clusterYaml(
  cluster: BootstrapCluster,
  type: BootstrapOptions["clusterType"],
): string {
  const dns = type === "STRICT_DNS"
    ? ` # the compose service name, resolved by Docker's DNS
      connect_timeout: 1s
      dns_lookup_family: V4_ONLY
`
    : `
      connect_timeout: 1s
`;
  const name = scalar(cluster.name);
  return `    - name: ${name}
      type: ${type}${dns}      load_assignment:
        cluster_name: ${name}
        endpoints:
          - lb_endpoints:
              - endpoint:
                  address:
                    socket_address: { address: ${cluster.address}, port_value: ${cluster.port} }
`;
}

function wasmFilterYaml(options: BootstrapOptions): string {
  if (options.wasmFilter !== undefined) {
    return `            # The wasm filter exactly as given (an EnvoyFilter's patch value).
            - ${JSON.stringify(options.wasmFilter)}
`;
  }
  const comment = options.configuration === "standalone"
    ? `                    # "standalone": even sources -> egress1, odd -> egress2. JSON works too:
                    # {"clusters": ["egress1", "egress2"]}
`
    : "";
  return `            # 1. The wasmerang filter. On each new connection it picks a cluster from the
            #    source address and sets the filter state key envoy.tcp_proxy.cluster
            #    (through the foreign function set_envoy_filter_state, Envoy >= 1.28).
            - name: envoy.filters.network.wasm
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm
                config:
                  name: ${ROOT_ID}
                  root_id: ${ROOT_ID} # must equal the filter's registerRootContext name
                  configuration:
                    "@type": type.googleapis.com/google.protobuf.StringValue
${comment}                    value: ${scalar(options.configuration)}
                  vm_config:
                    vm_id: ${ROOT_ID}
                    runtime: envoy.wasm.runtime.v8
                    code:
                      local:
                        filename: ${options.wasmFilename}
`;
}

function tcpProxyYaml(options: BootstrapOptions): string {
  if (options.tcpProxyFilter !== undefined) {
    return `            # tcp_proxy exactly as given (an EnvoyFilter's patch value).
            - ${JSON.stringify(options.tcpProxyFilter)}`;
  }
  const [first] = options.clusters;
  return `            # 2. tcp_proxy connects upstream: to ${first.name}, unless the filter chose a cluster.
            #    (With weighted_clusters the filter state would be ignored.)
            - name: envoy.filters.network.tcp_proxy
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                stat_prefix: wasmerang
                cluster: ${scalar(first.name)}
                access_log:
                  - name: envoy.access_loggers.stdout
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
                      log_format:
                        text_format_source:
                          inline_string: ${
    JSON.stringify(ENVOY_ACCESS_LOG_FORMAT)
  }`;
}

/** The bootstrap as YAML text. */
export function envoyBootstrap(options: BootstrapOptions): string {
  return `# Written by \`${options.writtenBy}\`. After editing, check it against Envoy's API:
#   ${options.checkCommand}
admin:
  address:
    socket_address: { address: ${options.admin.address}, port_value: ${options.admin.port} }

static_resources:
  listeners:
    - name: wasmerang
      address:
        socket_address: { address: ${options.listener.address}, port_value: ${options.listener.port} }
      filter_chains:
        - filters:
${wasmFilterYaml(options)}${tcpProxyYaml(options)}

  clusters:
${
    options.clusters.map((cluster) => clusterYaml(cluster, options.clusterType))
      .join("")
  }`;
}
