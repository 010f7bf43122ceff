/**
 * The local data plane: the example `wasmerang up local` runs, as a library —
 * two egress servers and a TCP proxy that runs a proxy-wasm filter on every
 * connection the way Envoy's network filter chain (wasm, then tcp_proxy) does,
 * and the probe that proves where each source address lands.
 *
 * @example
 * ```ts
 * import { probeLocal, startLocalPlane } from "./mod.ts";
 * import { embeddedFilter } from "../lib/filter_module.ts";
 * const any = { host: "127.0.0.1", port: 0 };
 * const plane = await startLocalPlane({ listen: any, egress: [any, any], config: "standalone", wasm: embeddedFilter() });
 * const report = await probeLocal({ target: plane.listen, sources: ["127.0.0.10", "127.0.0.11"], config: plane.config });
 * console.log(report.passed, report.failed); // 2 0
 * await plane.close();
 * ```
 * @module
 */
export { type AccessRecord, formatAccessLog } from "./access_log.ts";
export {
  formatHostPort,
  type HostPort,
  parseHostPort,
} from "../lib/address.ts";
export { type EgressServer, startEgress } from "./egress.ts";
export {
  LOCAL_DEFAULTS,
  localConfig,
  type LocalPlane,
  type PlaneOptions,
  startLocalPlane,
} from "./plane.ts";
export {
  DEFAULT_SOURCES,
  type LocalProbeOptions,
  parseSources,
  probeLocal,
} from "../lib/loopback_probe.ts";
export { type LocalProxy, type ProxyOptions, startProxy } from "./proxy.ts";
