/**
 * `HOST:PORT` addresses of the local data plane: parsing what the user typed
 * (one clear error per mistake) and formatting socket addresses the way Envoy
 * does (`10.0.0.1:80`, `[::1]:80`).
 *
 * @module
 */
import { isIP } from "node:net";
import { UserError } from "./errors.ts";

/** An IP literal and a port (0 asks the system for a free one). */
export interface HostPort {
  /** An IP literal, e.g. `127.0.0.1` or `::1`. */
  host: string;
  /** 0-65535; 0 lets the system choose when listening. */
  port: number;
}

/**
 * Parses `127.0.0.1:10000`, `[::1]:10000` or `localhost:10000` (→ 127.0.0.1).
 * Throws a UserError (exit 2) that names the flag and shows the right form.
 *
 * @example
 * ```ts
 * import { parseHostPort } from "./address.ts";
 * parseHostPort("127.0.0.1:10000", "--listen"); // { host: "127.0.0.1", port: 10000 }
 * ```
 */
export function parseHostPort(text: string, flag: string): HostPort {
  const fail = (why: string): never => {
    throw new UserError(
      `${flag} "${text}": ${why} (use HOST:PORT, e.g. 127.0.0.1:10000)`,
      2,
    );
  };
  const match = /^(?:\[([^\]]+)\]|([^:\[\]]+)):([0-9]{1,5})$/.exec(
    String(text).trim(),
  );
  if (!match) return fail("not an address with a port");
  const host = match[1] ?? (match[2] === "localhost" ? "127.0.0.1" : match[2]);
  const family = isIP(host);
  if (family === 0 || (match[1] !== undefined && family !== 6)) {
    return fail("not an IP address");
  }
  const port = Number(match[3]);
  if (port > 65535) return fail("the port must be 0-65535");
  return { host, port };
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
