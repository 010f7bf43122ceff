/**
 * The address options of `up local` and `up envoy` (`--listen`, `--admin`,
 * `--egress1`, `--egress2`), checked together before anything starts: each
 * parses as {@link parseHostPort} says, the proxy listens where the loopback
 * probe can reach it (IPv4), and no two of them name the same socket address.
 *
 * @example
 * ```ts
 * import { parseListenOptions } from "./listen_options.ts";
 * const { listen, egress1 } = parseListenOptions({
 *   listen: "127.0.0.1:10000",
 *   egress1: "127.0.0.1:19001",
 * });
 * ```
 *
 * @module
 */
import { isIP } from "node:net";
import { UsageError } from "./errors.ts";
import {
  canonicalHost,
  formatHostPort,
  type HostPort,
  parseHostPort,
} from "./address.ts";

/** What one up command was given: option name (without `--`) → `HOST:PORT`. */
export type AddressOptions<K extends string> = Record<K, string>;

/**
 * Parses every address option (the flag named `--<key>`), then refuses an
 * IPv6 `listen` (the probe connects from 127.0.0.0/8 sources) and any two
 * options that would bind the same address. Each mistake is one
 * {@link UsageError} (exit 2).
 */
export function parseListenOptions<K extends string>(
  values: AddressOptions<K>,
): Record<K, HostPort> {
  const parsed = {} as Record<K, HostPort>;
  for (const key of Object.keys(values) as K[]) {
    parsed[key] = parseHostPort(values[key], `--${key}`);
  }
  const listen = (parsed as Record<string, HostPort>).listen;
  if (listen !== undefined && isIP(canonicalHost(listen.host)) === 6) {
    throw new UsageError(
      `--listen ${
        formatHostPort(listen.host, listen.port)
      }: the probe connects from IPv4 loopback sources (127.0.0.0/8), ` +
        "so the proxy must listen on IPv4, e.g. 127.0.0.1:10000",
    );
  }
  requireDistinctAddresses(
    Object.fromEntries(
      Object.entries(parsed).map(([key, value]) => [`--${key}`, value]),
    ) as Record<string, HostPort>,
  );
  return parsed;
}

/**
 * Whether binding `a` and `b` on the same port would clash: the same host, or
 * a wildcard that covers the other (`0.0.0.0` every IPv4 address, `::` every
 * address, as Linux binds it dual-stack).
 */
export function addressesOverlap(a: string, b: string): boolean {
  const [x, y] = [canonicalHost(a), canonicalHost(b)];
  if (x === y || x === "::" || y === "::") return true;
  const ipv4 = (host: string) => isIP(host) === 4;
  return (x === "0.0.0.0" && ipv4(y)) || (y === "0.0.0.0" && ipv4(x));
}

/**
 * Refuses two flags that name the same port on overlapping addresses, in one
 * line naming both (port 0 asks for any free port, so it never clashes).
 */
export function requireDistinctAddresses(
  addresses: Record<string, HostPort>,
): void {
  const entries = Object.entries(addresses);
  for (const [i, [flag, address]] of entries.entries()) {
    for (const [other, earlier] of entries.slice(0, i)) {
      if (
        address.port !== 0 && address.port === earlier.port &&
        addressesOverlap(address.host, earlier.host)
      ) {
        const same = canonicalHost(address.host) ===
          canonicalHost(earlier.host);
        const at = (where: HostPort) => formatHostPort(where.host, where.port);
        throw new UsageError(
          same
            ? `${other} and ${flag} both name ${
              formatHostPort(canonicalHost(earlier.host), earlier.port)
            }: give each its own port`
            : `${other} ${at(earlier)} and ${flag} ${
              at(address)
            } overlap (a wildcard covers the other): give each its own port`,
        );
      }
    }
  }
}
