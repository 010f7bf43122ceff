/**
 * `HOST:PORT` addresses of the local data plane: parsing what the user typed
 * (one clear error per mistake) and formatting socket addresses the way Envoy
 * does (`10.0.0.1:80`, `[::1]:80`).
 *
 * @module
 */
import { isIP } from "node:net";
import { UsageError } from "./errors.ts";
import { quoteText } from "./routing.ts";

/** An IP literal and a port (0 asks the system for a free one). */
export interface HostPort {
  /** An IP literal, e.g. `127.0.0.1` or `::1`. */
  host: string;
  /** 0-65535; 0 lets the system choose when listening. */
  port: number;
}

/**
 * Parses `127.0.0.1:10000`, `[::1]:10000` or `localhost:10000` (→ 127.0.0.1).
 * Throws a UsageError (exit 2) that names the flag and shows the right form.
 *
 * The host must be an IP literal in the one form every socket layer here
 * reads alike (node:net's `isIP`): `127.000.000.010`, `127.1` or `0x7f.0.0.1`
 * are refused, since `Deno.listen` would read them through the resolver
 * (`127.000.000.010` as octal, 127.0.0.8) while node:net refuses them.
 * IPv6 zone ids (`fe80::1%lo`) are refused too: `Deno.listen` cannot take them.
 *
 * @example
 * ```ts
 * import { parseHostPort } from "./address.ts";
 * parseHostPort("127.0.0.1:10000", "--listen"); // { host: "127.0.0.1", port: 10000 }
 * ```
 */
export function parseHostPort(text: string, flag: string): HostPort {
  const fail = (why: string): never => {
    throw new UsageError(
      `${flag} ${
        quoteText(String(text))
      }: ${why} (use HOST:PORT, e.g. 127.0.0.1:10000)`,
    );
  };
  const match = /^(?:\[([^\]]+)\]|([^:\[\]]+)):([0-9]{1,5})$/.exec(
    String(text).trim(),
  );
  if (!match) return fail("not an address with a port");
  const host = match[1] ?? (match[2] === "localhost" ? "127.0.0.1" : match[2]);
  const family = isIP(host);
  if (family === 0 || (match[1] !== undefined && family !== 6)) {
    return fail(ipLiteralProblem(host));
  }
  if (host.includes("%")) return fail("IPv6 zone ids (%…) are not supported");
  const port = Number(match[3]);
  if (port > 65535) return fail("the port must be 0-65535");
  return { host, port };
}

/**
 * Why `host` is not an IP literal, for the error: leading zeros and short or
 * hexadecimal forms get their own words, since resolvers read them as octal.
 */
export function ipLiteralProblem(host: string): string {
  if (/^[0-9a-fA-FxX.]+$/.test(host) && /[.xX]/.test(host)) {
    return "not an IP address in dotted-decimal form (four numbers 0-255 without leading zeros, e.g. 127.0.0.10)";
  }
  return "not an IP address";
}

/**
 * An IPv4 address as `node:net` and `Deno.connect`/`Deno.listen` all read it
 * the same way: four numbers 0-255 without leading zeros.
 */
export function isIPv4Literal(text: string): boolean {
  return isIP(text) === 4;
}

/**
 * The socket address a host names, for comparing two of them:
 * IPv6 compressed and lowercased, an IPv4-mapped IPv6 address as its IPv4.
 */
export function canonicalHost(host: string): string {
  if (isIP(host) !== 6) return host;
  const compressed = new URL(`http://[${host}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(compressed);
  if (!mapped) return compressed;
  const [high, low] = [parseInt(mapped[1], 16), parseInt(mapped[2], 16)];
  return [high >> 8, high & 255, low >> 8, low & 255].join(".");
}

/** `host:port`, with brackets around IPv6: the form Envoy gives `source.address`. */
export function formatHostPort(
  host: string | undefined,
  port: number | undefined,
): string {
  const bare = host ?? "";
  return `${bare.includes(":") ? `[${bare}]` : bare}:${port ?? 0}`;
}

/** Whether `host` is a loopback address (127.0.0.0/8 or ::1). */
export function isLoopback(host: string): boolean {
  return /^127\.[0-9]+\.[0-9]+\.[0-9]+$/.test(host) || host === "::1";
}
