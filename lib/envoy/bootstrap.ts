/**
 * The one Envoy bootstrap the project writes, for the Docker example's
 * `envoy.yaml` and for the native `envoy` environment: one listener with the
 * wasm filter (V8, root id `wasmerang`) before tcp_proxy (default cluster: the
 * first), the access-log format the local mode prints, and the admin address.
 *
 * @module
 */
import { isUsableName, quoteText, ROOT_ID } from "../routing.ts";
import { UserError } from "../errors.ts";
import { writeYaml, type YamlComment, type YamlPath } from "../yaml_safe.ts";

/**
 * The access log line, the same fields the local mode prints, and Envoy's
 * response flags (`flags=-` when none; `UF` a failed upstream connect, `NC` no
 * such cluster, `UO` overflow, …).
 */
export const ENVOY_ACCESS_LOG_FORMAT: string =
  "[%START_TIME%] cluster=%UPSTREAM_CLUSTER% src=%DOWNSTREAM_REMOTE_ADDRESS% " +
  "dst=%DOWNSTREAM_LOCAL_ADDRESS% -> %UPSTREAM_HOST% bytes=%BYTES_RECEIVED%/%BYTES_SENT% %DURATION%ms " +
  "flags=%RESPONSE_FLAGS%\n";

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
  /**
   * The command that wrote the file, named in its first comment line: fixed
   * text (letters, digits, `_ .-`); anything else is written as `wasmerang`.
   */
  writtenBy: string;
  /**
   * How to check the file, for the header comment: quoted only when it is
   * `wasmerang check` and a bare file name (e.g. `wasmerang check envoy.yaml`),
   * else the comment says `wasmerang check <this file>` (no path in a comment).
   */
  checkCommand: string;
  /** Where Envoy's admin listens. */
  admin: { address: string; port: number };
  /** Where the listener (wasm filter, then tcp_proxy) listens. */
  listener: { address: string; port: number };
  /** The plugin configuration (`standalone`, `istio` or JSON). */
  configuration: string;
  /** The filter's root id (default `wasmerang`): its `name`, `root_id` and `vm_id`. */
  rootId?: string;
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

/** The header's first line names the command that wrote the file: fixed text only. */
const WRITTEN_BY = /^[\w .-]{1,80}$/;
/** A check command the header may quote: `wasmerang check` and a bare file name. */
const CHECK_COMMAND = /^wasmerang check( [A-Za-z0-9_-]+\.ya?ml)?$/;

const WASM_TYPE =
  "type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm";
const TCP_PROXY_TYPE =
  "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";
const STDOUT_LOG_TYPE =
  "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog";

function socketAddress(address: string, port: number) {
  return { socket_address: { address, port_value: port } };
}

function clusterData(
  cluster: BootstrapCluster,
  type: BootstrapOptions["clusterType"],
): Record<string, unknown> {
  return {
    name: cluster.name,
    type,
    connect_timeout: "1s",
    ...(type === "STRICT_DNS" ? { dns_lookup_family: "V4_ONLY" } : {}),
    load_assignment: {
      cluster_name: cluster.name,
      endpoints: [{
        lb_endpoints: [{
          endpoint: { address: socketAddress(cluster.address, cluster.port) },
        }],
      }],
    },
  };
}

function wasmFilterData(options: BootstrapOptions): Record<string, unknown> {
  return options.wasmFilter ?? {
    name: "envoy.filters.network.wasm",
    typed_config: {
      "@type": WASM_TYPE,
      config: {
        name: options.rootId ?? ROOT_ID,
        root_id: options.rootId ?? ROOT_ID,
        configuration: {
          "@type": "type.googleapis.com/google.protobuf.StringValue",
          value: options.configuration,
        },
        vm_config: {
          vm_id: options.rootId ?? ROOT_ID,
          runtime: "envoy.wasm.runtime.v8",
          code: { local: { filename: options.wasmFilename } },
        },
      },
    },
  };
}

function tcpProxyData(options: BootstrapOptions): Record<string, unknown> {
  return options.tcpProxyFilter ?? {
    name: "envoy.filters.network.tcp_proxy",
    typed_config: {
      "@type": TCP_PROXY_TYPE,
      stat_prefix: "wasmerang",
      cluster: options.clusters[0].name,
      access_log: [{
        name: "envoy.access_loggers.stdout",
        typed_config: {
          "@type": STDOUT_LOG_TYPE,
          log_format: {
            text_format_source: { inline_string: ENVOY_ACCESS_LOG_FORMAT },
          },
        },
      }],
    },
  };
}

/**
 * Refuses, in one line, cluster names Envoy or the filter would refuse (see
 * `isUsableName`) and a name given twice (Envoy refuses duplicate clusters).
 */
function checkClusters(clusters: readonly BootstrapCluster[]): void {
  if (clusters.length === 0) throw new Error("a bootstrap needs a cluster");
  const seen = new Set<string>();
  for (const { name } of clusters) {
    if (!isUsableName(name)) {
      throw new UserError(
        `cluster name ${
          quoteText(name)
        } is empty or has a control character or an unpaired surrogate`,
        2,
      );
    }
    if (seen.has(name)) {
      throw new UserError(
        `cluster name ${
          quoteText(name)
        } is given twice: Envoy needs the two clusters to have different names`,
        2,
      );
    }
    seen.add(name);
  }
}

/**
 * The bootstrap as data, exactly what {@link envoyBootstrap} writes. Throws a
 * one-line UserError for cluster names Envoy or the filter would refuse.
 */
export function envoyBootstrapData(
  options: BootstrapOptions,
): Record<string, unknown> {
  checkClusters(options.clusters);
  return {
    admin: {
      address: socketAddress(options.admin.address, options.admin.port),
    },
    static_resources: {
      listeners: [{
        name: "wasmerang",
        address: socketAddress(options.listener.address, options.listener.port),
        filter_chains: [{
          filters: [wasmFilterData(options), tcpProxyData(options)],
        }],
      }],
      clusters: options.clusters.map((cluster) =>
        clusterData(cluster, options.clusterType)
      ),
    },
  };
}

/** Fixed comments for readers, placed on the bootstrap's nodes. */
function comments(options: BootstrapOptions): YamlComment[] {
  const writtenBy = WRITTEN_BY.test(options.writtenBy)
    ? options.writtenBy
    : "wasmerang";
  const check = CHECK_COMMAND.test(options.checkCommand)
    ? options.checkCommand
    : "wasmerang check <this file>";
  const filters = [
    "static_resources",
    "listeners",
    0,
    "filter_chains",
    0,
    "filters",
  ];
  const list: YamlComment[] = [
    {
      path: [],
      before:
        `Written by \`${writtenBy}\`. After editing, check it against Envoy's API:\n  ${check}`,
    },
  ];
  if (options.wasmFilter !== undefined) {
    list.push({
      path: [...filters, 0],
      before:
        "The wasm filter exactly as given (an EnvoyFilter's patch value).",
    });
  } else {
    const config = [...filters, 0, "typed_config", "config"];
    list.push(
      {
        path: [...filters, 0],
        before: (options.rootId ?? ROOT_ID) === ROOT_ID
          ? "1. The wasmerang filter. On each new connection it picks a cluster from the\n" +
            "   source address and sets the filter state key envoy.tcp_proxy.cluster\n" +
            "   (through the foreign function set_envoy_filter_state, Envoy >= 1.28)."
          : "1. The wasm filter. On each new connection it may choose a cluster by setting\n" +
            "   the filter state key envoy.tcp_proxy.cluster (through the foreign function\n" +
            "   set_envoy_filter_state, Envoy >= 1.28).",
      },
      {
        path: [...config, "root_id"],
        after: "must equal the filter's registerRootContext name",
      },
    );
    if (options.configuration === "standalone") {
      list.push({
        path: [...config, "configuration", "value"],
        before:
          '"standalone": even sources -> egress1, odd -> egress2. JSON works too:\n' +
          '{"clusters": ["egress1", "egress2"]}',
      });
    }
  }
  list.push({
    path: [...filters, 1],
    before: options.tcpProxyFilter !== undefined
      ? "tcp_proxy exactly as given (an EnvoyFilter's patch value)."
      : "2. tcp_proxy connects upstream: to the first cluster below, unless the filter\n" +
        "   chose a cluster. (With weighted_clusters the filter state would be ignored.)",
  });
  if (options.clusterType === "STRICT_DNS") {
    options.clusters.forEach((_, i) =>
      list.push({
        path: ["static_resources", "clusters", i, "type"],
        after: "the compose service name, resolved by Docker's DNS",
      })
    );
  }
  return list;
}

/**
 * The bootstrap as YAML text, written from {@link envoyBootstrapData} by the
 * YAML library: user values are quoted scalars (never pasted, never in a
 * comment); the comments are fixed text.
 */
export function envoyBootstrap(options: BootstrapOptions): string {
  const data = envoyBootstrapData(options);
  const addresses: YamlPath[] = [
    ["admin", "address", "socket_address"],
    ["static_resources", "listeners", 0, "address", "socket_address"],
    ...options.clusters.map((_, i) => [
      "static_resources",
      "clusters",
      i,
      "load_assignment",
      "endpoints",
      0,
      "lb_endpoints",
      0,
      "endpoint",
      "address",
      "socket_address",
    ]),
  ];
  return writeYaml(data, {
    comments: comments(options),
    flow: addresses,
    spaceBefore: [["static_resources"], ["static_resources", "clusters"]],
  });
}
