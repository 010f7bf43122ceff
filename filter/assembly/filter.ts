// The story of one TCP connection: read who is calling, pick an egress by the parity of
// the source address, and tell tcp_proxy through Envoy's filter state. Everything that
// does not depend on the connection is prepared at configure; the decision line (debug)
// is built only when the proxy logs debug lines.
import {
  FilterStatusValues,
  log,
  LogLevelValues,
  RootContext,
} from "@solo-io/proxy-runtime/runtime";
import { portOf, sourceParity } from "./address";
import { parseConfig, RouteConfig } from "./config";
import { LogLevelWatch, readConfiguration, TCP_PROXY_CLUSTER } from "./lib/tcp";
import {
  FilterStateArguments,
  integerProperty,
  readProperty,
  resultName,
  returned,
  SafeCounter,
  stringProperty,
} from "./lib/host";

/** The root id every generated configuration names. */
export const ROOT_ID = "wasmerang";

const SOURCE_ADDRESS = String.UTF8.encode("source\0address");
const DESTINATION_ADDRESS = String.UTF8.encode("destination\0address");
const DESTINATION_PORT = String.UTF8.encode("destination\0port");

// Under this AssemblyScript runtime, a conditional expression that yields an existing
// managed reference (`a ? local : other`) releases it once too often: use statements.
function orNone(value: string): string {
  if (value.length > 0) return value;
  return "(none)";
}

/** The filter: its configuration, counters and encoded arguments, and each connection's decision. */
export class ParityRoot extends RootContext {
  config: RouteConfig = new RouteConfig();
  routedEven: SafeCounter | null = null;
  routedOdd: SafeCounter | null = null;
  unparseable: SafeCounter | null = null;
  failed: SafeCounter | null = null;
  evenArguments: FilterStateArguments | null = null;
  oddArguments: FilterStateArguments | null = null;
  /** Whether the Istio name takes the connection's destination port. */
  portPerConnection: bool = false;
  logLevel: LogLevelWatch = new LogLevelWatch();

  /** Reads the plugin configuration; false makes the proxy reject the plugin. */
  configure(configurationSize: u32): bool {
    const config = parseConfig(readConfiguration(configurationSize));
    if (config.error.length > 0) {
      log(LogLevelValues.error, "wasmerang: " + config.error);
      return false;
    }
    this.config = config;
    this.routedEven = new SafeCounter("wasmerang.routed." + config.evenCluster);
    this.routedOdd = new SafeCounter("wasmerang.routed." + config.oddCluster);
    this.unparseable = new SafeCounter("wasmerang.unparseable_source");
    this.failed = new SafeCounter("wasmerang.filter_state_failed");
    this.evenArguments = this.argumentsFor(config.evenCluster);
    this.oddArguments = this.argumentsFor(config.oddCluster);
    this.portPerConnection = config.istio && config.port == 0;
    this.logLevel.start();
    log(LogLevelValues.info, "wasmerang: configured " + config.describe());
    return true;
  }

  onTick(): void {
    this.logLevel.refresh();
  }

  /** "name", or "outbound|<port>||name.<namespace>.svc.<domain>" for Istio. */
  argumentsFor(name: string): FilterStateArguments {
    const config = this.config;
    if (!config.istio) {
      return new FilterStateArguments(TCP_PROXY_CLUSTER, name, "", -1);
    }
    return new FilterStateArguments(
      TCP_PROXY_CLUSTER,
      "outbound|",
      "||" + name + "." + config.namespace + ".svc." + config.domain,
      config.port,
    );
  }

  onNewConnection(contextId: u32): FilterStatusValues {
    let parity = -1;
    let source = "";
    if (readProperty(SOURCE_ADDRESS)) {
      parity = sourceParity(returned.pointer, <i32> returned.size);
      if (parity < 0 || this.logLevel.debug) {
        source = String.UTF8.decodeUnsafe(returned.pointer, returned.size);
      }
      returned.release();
    }
    if (parity < 0) {
      this.unparseable!.increment();
      log(
        LogLevelValues.warn,
        story(contextId, source) +
          " -> no override (source is not an IP address)",
      );
      return FilterStatusValues.Continue;
    }

    let args = this.oddArguments!;
    if (parity == 0) args = this.evenArguments!;
    if (this.portPerConnection) {
      const port = destinationPort();
      if (port <= 0) {
        this.unparseable!.increment();
        log(
          LogLevelValues.warn,
          story(contextId, source) +
            " -> no override (no destination port for the Istio name)",
        );
        return FilterStatusValues.Continue;
      }
      args.usePort(port);
    }

    const result = args.apply();
    if (result != 0) {
      this.failed!.increment();
      log(
        LogLevelValues.error,
        story(contextId, source) + " -> " + args.clusterName() +
          " not applied: set_envoy_filter_state " + resultName(result) +
          " (needs Envoy >= 1.28); tcp_proxy keeps its cluster",
      );
      return FilterStatusValues.Continue;
    }
    if (parity == 0) this.routedEven!.increment();
    else this.routedOdd!.increment();
    if (this.logLevel.debug) {
      let side = "odd";
      if (parity == 0) side = "even";
      log(
        LogLevelValues.debug,
        story(contextId, source) + " -> " + args.clusterName() + " (" + side +
          ", set_envoy_filter_state Ok)",
      );
    }
    return FilterStatusValues.Continue;
  }
}

/** The start of a connection's log line (reads the destination address). */
function story(contextId: u32, source: string): string {
  const destination = stringProperty(DESTINATION_ADDRESS);
  return "wasmerang: connection " + contextId.toString() + " source=" +
    orNone(source) + " destination=" + orNone(destination);
}

/** The connection's destination port: the property, else the address's; 0 or -1 when none. */
function destinationPort(): i32 {
  const fromProperty = integerProperty(DESTINATION_PORT);
  if (fromProperty > 0 && fromProperty <= 65535) return <i32> fromProperty;
  if (!readProperty(DESTINATION_ADDRESS)) return 0;
  const port = portOf(returned.pointer, <i32> returned.size);
  returned.release();
  return port;
}
