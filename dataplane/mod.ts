/**
 * The data plane: the example `wasmerang up local` runs, as a library — two
 * egress servers and a TCP proxy that runs a proxy-wasm filter on every
 * connection the way Envoy's network filter chain (wasm, then tcp_proxy)
 * does, with one access-log line per connection.
 *
 * @example
 * ```ts
 * import { embeddedFilter, startLocalPlane } from "../mod.ts";
 * const any = { host: "127.0.0.1", port: 0 };
 * const plane = await startLocalPlane({ listen: any, egress: [any, any], config: "standalone", wasm: embeddedFilter() });
 * const connection = await Deno.connect({ hostname: "127.0.0.1", port: plane.listen.port });
 * const banner = new Uint8Array(16);
 * const size = await connection.read(banner);
 * new TextDecoder().decode(banner.subarray(0, size ?? 0)); // "egress2\n": 127.0.0.1 ends odd
 * connection.close();
 * await plane.close();
 * ```
 * @module
 */
export { type AccessRecord, formatAccessLog } from "./access_log.ts";
export type { HostPort } from "../lib/address.ts";
export type { FilterConfig } from "../lib/routing.ts";
export { type EgressServer, startEgress } from "./egress.ts";
export {
  LOCAL_DEFAULTS,
  type LocalPlane,
  type PlaneOptions,
  startLocalPlane,
} from "./plane.ts";
export { type LocalProxy, type ProxyOptions, startProxy } from "./proxy.ts";
