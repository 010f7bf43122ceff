/**
 * The routing facts of the flagship filter, in plain TypeScript: its root id,
 * its configuration and the decision it makes for a source address. The filter
 * in filter/ implements the same rules in AssemblyScript; probes use this module
 * to know what to expect, and the benchmarks use it as the native baseline.
 */

/** The root id the filter registers and every generated configuration names. */
export const ROOT_ID = "wasmerang";

// The filter-state key the filter sets (tcp_proxy reads it): one definition, with the host.
export { TCP_PROXY_CLUSTER_KEY } from "../host/foreign.ts";

/** Where the filter sends traffic: plain cluster names, or Istio outbound names. */
export type RoutingMode = "standalone" | "istio";

/** The filter's configuration with every default filled in. */
export interface FilterConfig {
  /** `standalone` (plain cluster names) or `istio` (outbound cluster names); default `standalone`. */
  mode: RoutingMode;
  /** `[even, odd]`: the cluster for even sources, then the one for odd sources. */
  clusters: [string, string];
  /** Namespace of the services in Istio names; default `default`. */
  namespace: string;
  /** Cluster domain in Istio names; default `cluster.local`. */
  domain: string;
  /** Fixed port for Istio names; `undefined` takes the connection's destination port. */
  port?: number;
}

/** The configuration used when the plugin configuration is empty or `"standalone"`. */
export const DEFAULT_CONFIG: Readonly<FilterConfig> = Object.freeze({
  mode: "standalone",
  clusters: ["egress1", "egress2"] as [string, string],
  namespace: "default",
  domain: "cluster.local",
});

/** The message for a name that is not {@link isUsableName} (empty ones have their own). */
const NAME_PROBLEM = (what: string) =>
  `invalid configuration: ${what} must not contain control characters or unpaired surrogates`;

const CONFIG_KEYS = ["mode", "clusters", "namespace", "domain", "port"];

/** Longest configuration the filter accepts, in characters (larger ones are refused unread). */
export const MAX_CONFIG_LENGTH = 65536;

/** Deepest nesting of arrays and objects, the configuration object included, the filter reads. */
export const MAX_CONFIG_DEPTH = 32;

/** How many code units of a refused text an error message quotes. */
export const QUOTED_TEXT_LIMIT = 64;

function isControl(c: number): boolean {
  return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/**
 * Whether `text` can be (part of) a cluster name: not empty, no control
 * character (U+0000–U+001F, U+007F–U+009F) and no unpaired surrogate (which
 * has no UTF-8 form, so Envoy could never be given it). Envoy itself refuses
 * only the empty name; the rest is refused so that a name can never break a
 * log line, an error line or a generated file. The filter (filter/assembly/
 * config.ts) applies the same rule.
 *
 * @example
 * ```ts
 * import { isUsableName } from "./routing.ts";
 * isUsableName("outbound|9000||egress1.default.svc.cluster.local"); // true
 * isUsableName("e1\n  - name: envoy.filters.network.rbac"); // false
 * ```
 */
export function isUsableName(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isControl(c) || isLowSurrogate(c)) return false;
    if (isHighSurrogate(c)) {
      if (i + 1 >= text.length || !isLowSurrogate(text.charCodeAt(i + 1))) {
        return false;
      }
      i++;
    }
  }
  return true;
}

/**
 * `text` in double quotes for a one-line message: its first
 * {@link QUOTED_TEXT_LIMIT} code units, `"` and `\` escaped, control
 * characters, U+2028/U+2029 and unpaired surrogates as `\uXXXX`, and `…`
 * after the closing quote when it was cut. The filter quotes the same way.
 */
export function quoteText(text: string): string {
  const cut = text.length > QUOTED_TEXT_LIMIT;
  const part = cut ? text.slice(0, QUOTED_TEXT_LIMIT) : text;
  let out = '"';
  for (let i = 0; i < part.length; i++) {
    const c = part.charCodeAt(i);
    const paired = isHighSurrogate(c) && i + 1 < part.length &&
      isLowSurrogate(part.charCodeAt(i + 1));
    if (paired) {
      out += part.slice(i, i + 2);
      i++;
    } else if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += "\\\\";
    else if (
      isControl(c) || c === 0x2028 || c === 0x2029 || isHighSurrogate(c) ||
      isLowSurrogate(c)
    ) {
      out += "\\u" + c.toString(16).padStart(4, "0");
    } else out += part[i];
  }
  return out + '"' + (cut ? "…" : "");
}

/** How many arrays and objects are nested in `value` (0 for a string, number, …), counted up to `limit`. */
function nesting(value: unknown, limit = MAX_CONFIG_DEPTH): number {
  if (typeof value !== "object" || value === null) return 0;
  if (limit <= 1) return 1;
  let deepest = 0;
  for (const child of Object.values(value)) {
    deepest = Math.max(deepest, nesting(child, limit - 1));
  }
  return 1 + deepest;
}

/**
 * Parses the plugin configuration exactly as the filter does: empty,
 * `standalone`, `istio` (bare or as a JSON string), or a JSON object with any of
 * `mode`, `clusters`, `namespace`, `domain`, `port`. Throws an `Error` naming
 * the problem otherwise.
 *
 * @example
 * ```ts
 * import { parseFilterConfig } from "./routing.ts";
 * parseFilterConfig('{"mode":"istio","port":8080}').port; // 8080
 * ```
 */
export function parseFilterConfig(text: string): FilterConfig {
  if (text.length > MAX_CONFIG_LENGTH) {
    throw new Error(
      `invalid configuration: longer than ${MAX_CONFIG_LENGTH} characters`,
    );
  }
  const trimmed = text.trim();
  if (
    trimmed === "" || trimmed === "standalone" || trimmed === '"standalone"'
  ) {
    return { ...DEFAULT_CONFIG, clusters: [...DEFAULT_CONFIG.clusters] };
  }
  if (trimmed === "istio" || trimmed === '"istio"') {
    return {
      ...DEFAULT_CONFIG,
      mode: "istio",
      clusters: [...DEFAULT_CONFIG.clusters],
    };
  }
  if (!trimmed.startsWith("{")) {
    throw new Error(
      `invalid configuration ${
        quoteText(trimmed)
      }: expected "standalone", "istio" or a JSON object`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(trimmed);
  } catch {
    throw new Error("invalid configuration: not valid JSON");
  }
  const object = raw as Record<string, unknown>;
  const config: FilterConfig = {
    ...DEFAULT_CONFIG,
    clusters: [...DEFAULT_CONFIG.clusters],
  };
  for (const key of Object.keys(object)) {
    const value = object[key];
    if (!CONFIG_KEYS.includes(key)) {
      throw new Error(
        `invalid configuration: unknown key ${quoteText(key)}`,
      );
    }
    if (1 + nesting(value) > MAX_CONFIG_DEPTH) {
      throw new Error(
        `invalid configuration: nested deeper than ${MAX_CONFIG_DEPTH} levels`,
      );
    }
    if (key === "mode") {
      if (value !== "standalone" && value !== "istio") {
        throw new Error(
          'invalid configuration: "mode" must be "standalone" or "istio"',
        );
      }
      config.mode = value;
    } else if (key === "clusters") {
      if (
        !Array.isArray(value) || value.length !== 2 ||
        !value.every((name) => typeof name === "string" && name !== "")
      ) {
        throw new Error(
          'invalid configuration: "clusters" must be two non-empty strings',
        );
      }
      if (!value.every(isUsableName)) {
        throw new Error(NAME_PROBLEM('"clusters"'));
      }
      config.clusters = [value[0], value[1]];
    } else if (key === "port") {
      if (
        !Number.isInteger(value) || (value as number) < 1 ||
        (value as number) > 65535
      ) {
        throw new Error(
          'invalid configuration: "port" must be an integer from 1 to 65535',
        );
      }
      config.port = value as number;
    } else {
      if (typeof value !== "string" || value === "") {
        throw new Error(
          `invalid configuration: "${key}" must be a non-empty string`,
        );
      }
      if (!isUsableName(value)) throw new Error(NAME_PROBLEM(`"${key}"`));
      config[key as "namespace" | "domain"] = value;
    }
  }
  return config;
}

/**
 * The parity of a source address: 0 (even) or 1 (odd), or `undefined` when the
 * text is not an address. Accepts `ip`, `ip:port`, `[ipv6]:port`, bare IPv6 and
 * IPv4-mapped IPv6; IPv4 uses the last octet, IPv6 the last byte.
 *
 * @example
 * ```ts
 * import { sourceParity } from "./routing.ts";
 * sourceParity("10.0.0.3:5555"); // 1
 * sourceParity("[::ffff:10.0.0.4]:80"); // 0
 * ```
 */
export function sourceParity(address: string): 0 | 1 | undefined {
  const host = hostOf(address);
  if (host === undefined) return undefined;
  const bytes = host.includes(":") ? parseIPv6(host) : parseIPv4(host);
  if (bytes === undefined) return undefined;
  return (bytes[bytes.length - 1] & 1) as 0 | 1;
}

/** The host part of `ip`, `ip:port`, `[ipv6]` or `[ipv6]:port`. */
function hostOf(address: string): string | undefined {
  if (address.startsWith("[")) {
    const close = address.indexOf("]");
    if (close < 0) return undefined;
    const rest = address.slice(close + 1);
    if (rest !== "" && !(rest.startsWith(":") && isPort(rest.slice(1)))) {
      return undefined;
    }
    return address.slice(1, close);
  }
  const colons = address.split(":").length - 1;
  if (colons === 1) {
    const [host, port] = address.split(":");
    return isPort(port) ? host : undefined;
  }
  return address;
}

function isPort(text: string): boolean {
  return /^[0-9]{1,5}$/.test(text) && Number(text) <= 65535;
}

function parseIPv4(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const bytes = parts.map((part) =>
    /^[0-9]{1,3}$/.test(part) ? Number(part) : 256
  );
  return bytes.every((byte) => byte <= 255) ? bytes : undefined;
}

function parseIPv6(text: string): number[] | undefined {
  let tail: number[] = [];
  let head = text;
  const lastColon = text.lastIndexOf(":");
  if (text.slice(lastColon + 1).includes(".")) {
    const v4 = parseIPv4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = v4;
    head = text[lastColon - 1] === ":"
      ? text.slice(0, lastColon + 1)
      : text.slice(0, lastColon);
  }
  const groupsWanted = 8 - tail.length / 2;
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string) => part === "" ? [] : part.split(":");
  const left = parse(halves[0]);
  const right = halves.length === 2 ? parse(halves[1]) : [];
  const groups = [...left, ...right];
  if (!groups.every((group) => /^[0-9a-fA-F]{1,4}$/.test(group))) {
    return undefined;
  }
  if (
    halves.length === 2
      ? groups.length >= groupsWanted
      : groups.length !== groupsWanted
  ) {
    return undefined;
  }
  const zeros = groupsWanted - groups.length;
  const all = [...left, ...Array(zeros).fill("0"), ...right].map((g) =>
    parseInt(g, 16)
  );
  return [...all.flatMap((group) => [group >> 8, group & 255]), ...tail];
}

/**
 * The cluster the filter chooses for a connection, or `undefined` when it makes
 * no override (unparseable source, or Istio mode with no port to use).
 *
 * @example
 * ```ts
 * import { decideCluster, parseFilterConfig } from "./routing.ts";
 * decideCluster("10.0.0.2:5555", "10.96.0.1:443", parseFilterConfig("istio"));
 * // "outbound|443||egress1.default.svc.cluster.local"
 * ```
 */
export function decideCluster(
  source: string,
  destination: string | undefined,
  config: FilterConfig = DEFAULT_CONFIG,
): string | undefined {
  const parity = sourceParity(source);
  if (parity === undefined) return undefined;
  const name = config.clusters[parity];
  if (config.mode === "standalone") return name;
  const port = config.port ?? portOf(destination);
  if (port === undefined) return undefined;
  return istioClusterName(port, name, config.namespace, config.domain);
}

/**
 * The name Istio gives the outbound cluster of a service's port:
 * `outbound|<port>||<service>.<namespace>.svc.<domain>`.
 *
 * @example
 * ```ts
 * import { istioClusterName } from "./routing.ts";
 * istioClusterName(9000, "egress1", "default"); // "outbound|9000||egress1.default.svc.cluster.local"
 * ```
 */
export function istioClusterName(
  port: number,
  service: string,
  namespace: string,
  domain: string = DEFAULT_CONFIG.domain,
): string {
  return `outbound|${port}||${service}.${namespace}.svc.${domain}`;
}

/**
 * The port of `ip:port` or `[ipv6]:port`, if any (1 to 65535). Reads the text
 * exactly as the filter does, malformed text included.
 */
export function portOf(address: string | undefined): number | undefined {
  if (address === undefined) return undefined;
  const colon = address.lastIndexOf(":");
  if (colon < 0) return undefined;
  const bracketed = address.startsWith("[");
  if (!bracketed && address.indexOf(":") !== colon) return undefined;
  if (bracketed && address[colon - 1] !== "]") return undefined;
  const digits = address.slice(colon + 1);
  if (!isPort(digits)) return undefined;
  const port = Number(digits);
  return port >= 1 ? port : undefined;
}
