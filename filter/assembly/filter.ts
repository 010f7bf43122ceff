// The story of one TCP connection: read who is calling, pick an egress by the parity of
// the source address, and tell tcp_proxy through Envoy's filter state.
import {
  Context,
  FilterStatusValues,
  get_buffer_bytes,
  log,
  LogLevelValues,
  PeerTypeValues,
  RootContext,
} from "@solo-io/proxy-runtime/runtime";
import { BufferTypeValues } from "@solo-io/proxy-runtime/runtime";
import { portOf, sourceParity } from "./address";
import { parseConfig, RouteConfig } from "./config";
import {
  integerProperty,
  resultName,
  SafeCounter,
  setEnvoyFilterState,
  stringProperty,
} from "./envoy";

/** The root id every generated configuration names. */
export const ROOT_ID = "wasmerang";
const TCP_PROXY_CLUSTER = "envoy.tcp_proxy.cluster";

// Under this AssemblyScript runtime, a conditional expression that yields an existing
// managed reference (`a ? local : other`) releases it once too often: use statements.
function orNone(value: string): string {
  if (value.length > 0) return value;
  return "(none)";
}

export class ParityRoot extends RootContext {
  config: RouteConfig = new RouteConfig();
  routedEven: SafeCounter | null = null;
  routedOdd: SafeCounter | null = null;
  unparseable: SafeCounter | null = null;
  failed: SafeCounter | null = null;

  /** Reads the plugin configuration; false makes the proxy reject the plugin. */
  configure(configurationSize: u32): bool {
    const bytes = get_buffer_bytes(
      BufferTypeValues.PluginConfiguration,
      0,
      configurationSize,
    );
    const config = parseConfig(String.UTF8.decode(bytes));
    if (config.error.length > 0) {
      log(LogLevelValues.error, "wasmerang: " + config.error);
      return false;
    }
    this.config = config;
    this.routedEven = new SafeCounter("wasmerang.routed." + config.evenCluster);
    this.routedOdd = new SafeCounter("wasmerang.routed." + config.oddCluster);
    this.unparseable = new SafeCounter("wasmerang.unparseable_source");
    this.failed = new SafeCounter("wasmerang.filter_state_failed");
    log(LogLevelValues.info, "wasmerang: configured " + config.describe());
    return true;
  }
}

export class ParityStream extends Context {
  root: ParityRoot;

  constructor(id: u32, root: ParityRoot) {
    super(id, root);
    this.root = root;
  }

  onNewConnection(): FilterStatusValues {
    const source = stringProperty("source\0address");
    const destination = stringProperty("destination\0address");
    const story = "wasmerang: connection " + this.context_id.toString() +
      " source=" + orNone(source) + " destination=" + orNone(destination);

    const parity = sourceParity(source);
    if (parity < 0) {
      this.root.unparseable!.increment();
      log(
        LogLevelValues.warn,
        story + " -> no override (source is not an IP address)",
      );
      return FilterStatusValues.Continue;
    }

    const cluster = this.clusterFor(parity, destination);
    if (cluster.length == 0) {
      this.root.unparseable!.increment();
      log(
        LogLevelValues.warn,
        story + " -> no override (no destination port for the Istio name)",
      );
      return FilterStatusValues.Continue;
    }

    const result = setEnvoyFilterState(TCP_PROXY_CLUSTER, cluster);
    if (result != 0) {
      this.root.failed!.increment();
      log(
        LogLevelValues.error,
        story + " -> " + cluster + " not applied: set_envoy_filter_state " +
          resultName(result) +
          " (needs Envoy >= 1.28); tcp_proxy keeps its cluster",
      );
      return FilterStatusValues.Continue;
    }
    if (parity == 0) this.root.routedEven!.increment();
    else this.root.routedOdd!.increment();
    log(
      LogLevelValues.info,
      story + " -> " + cluster + " (" + (parity == 0 ? "even" : "odd") +
        ", set_envoy_filter_state Ok)",
    );
    return FilterStatusValues.Continue;
  }

  // Data and close events need nothing from this filter: answer them without the SDK's debug logging.
  onDownstreamData(size: usize, end: bool): FilterStatusValues {
    return FilterStatusValues.Continue;
  }
  onUpstreamData(size: usize, end: bool): FilterStatusValues {
    return FilterStatusValues.Continue;
  }
  onDownstreamConnectionClose(peer: PeerTypeValues): void {}
  onUpstreamConnectionClose(peer: PeerTypeValues): void {}

  /** The cluster name for this parity; "" when an Istio name has no port to use. */
  clusterFor(parity: i32, destination: string): string {
    const config = this.root.config;
    let name = config.oddCluster;
    if (parity == 0) name = config.evenCluster;
    if (!config.istio) return name;
    let port = <i32> config.port;
    if (port == 0) {
      const fromProperty = integerProperty("destination\0port");
      port = fromProperty > 0 && fromProperty <= 65535
        ? <i32> fromProperty
        : portOf(destination);
    }
    if (port <= 0) return "";
    return "outbound|" + port.toString() + "||" + name + "." +
      config.namespace + ".svc." + config.domain;
  }
}
