/**
 * The Docker example's fixed facts: ports, names, and the addresses taken from
 * the compose network's subnet (Envoy, the egresses, the probe sources).
 */
import { UserError } from "../../lib/errors.ts";
import { isIPv4Literal } from "../../lib/address.ts";

/** Envoy's listener port (in the container and published on 127.0.0.1). */
export const LISTENER_PORT = 10000;
/** Envoy's admin port (in the container and published on 127.0.0.1). */
export const ADMIN_PORT = 9901;
/** The port every egress service listens on. */
export const EGRESS_PORT = 9000;
/** Compose project name: `docker compose ls` shows it. */
export const COMPOSE_PROJECT = "wasmerang";
/** The Docker network's name (fixed, so probe containers can join it by name). */
export const NETWORK_NAME = "wasmerang-docker";
/** Envoy's image unless `--envoy-image` says otherwise (Envoy ≥ 1.28 is needed). */
export const DEFAULT_ENVOY_IMAGE = "envoyproxy/envoy:v1.40.0";
/** The small image the egress services and the probe containers run. */
export const BUSYBOX_IMAGE = "busybox:1.37.0";
/** The compose network's subnet unless `--subnet` says otherwise. */
export const DEFAULT_SUBNET = "172.21.0.0/16";
/** The folder `scaffold docker`, `up docker`, `probe docker` and `down docker` use by default. */
export const DEFAULT_DIR = "envoy-docker";
/** Label put on probe containers, so `down` can find any left behind. */
export const PROBE_LABEL = "io.wasmerang.probe";

/** An IPv4 subnet and the addresses the example takes in it. */
export interface DockerNetwork {
  /** `a.b.c.d/n`, normalized. */
  subnet: string;
  /** The gateway's address: the subnet's base + 1. */
  gateway: string;
  /** Envoy's address: the subnet's base + 2. */
  envoy: string;
  /**
   * The egress services' addresses, one per cluster in order: the subnet's
   * base + 3, + 4, … (+ 10 to + 13 are the probe sources' and skipped).
   */
  egresses: string[];
  /** Default probe sources: two even and two odd last octets. */
  probeSources: string[];
  /** Whether `ip` lies inside the subnet. */
  contains(ip: string): boolean;
  /** Addresses in use (network, gateway, the services, broadcast): probes may not take them. */
  reserved: string[];
}

/** The default probe sources' offsets in the subnet. */
const PROBE_OFFSETS = [10, 11, 12, 13];

/**
 * The offsets of `count` egress addresses in a subnet of `size` addresses:
 * from base + 3 up, skipping the probe sources, before the broadcast address;
 * undefined when they do not fit.
 */
function egressOffsets(count: number, size: number): number[] | undefined {
  const offsets: number[] = [];
  for (let offset = 3; offsets.length < count; offset++) {
    if (offset >= size - 1) return undefined;
    if (!PROBE_OFFSETS.includes(offset)) offsets.push(offset);
  }
  return offsets;
}

/** The address as a number; undefined unless it is an IPv4 literal as the socket layer reads it. */
function toNumber(ip: string): number | undefined {
  if (!isIPv4Literal(ip)) return undefined;
  return ip.split(".").reduce((sum, part) => sum * 256 + Number(part), 0);
}

function toIp(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256)
    .join(".");
}

/**
 * Parses an IPv4 subnet like `172.21.0.0/16` (prefix 8 to 27: at least 32
 * addresses) and derives the example's addresses: gateway .1, Envoy .2, the
 * `egressCount` egresses from .3 (two by default: .3 and .4), probe sources
 * .10 to .13.
 */
export function dockerNetwork(
  subnet: string = DEFAULT_SUBNET,
  egressCount = 2,
): DockerNetwork {
  const match = subnet.match(/^([0-9.]+)\/(\d{1,2})$/);
  const base = match ? toNumber(match[1]) : undefined;
  const prefix = match ? Number(match[2]) : NaN;
  if (base === undefined || !(prefix >= 8 && prefix <= 27)) {
    throw new UserError(
      `invalid --subnet "${subnet}": expected an IPv4 subnet like 172.21.0.0/16 (prefix /8 to /27)`,
      2,
    );
  }
  const size = 2 ** (32 - prefix);
  const network = base - (base % size);
  if (network !== base) {
    throw new UserError(
      `invalid --subnet "${subnet}": host bits are set (did you mean ${
        toIp(network)
      }/${prefix}?)`,
      2,
    );
  }
  const at = (offset: number) => toIp(network + offset);
  const offsets = egressOffsets(egressCount, size);
  if (offsets === undefined) {
    const room = size - 4 - PROBE_OFFSETS.length;
    throw new UserError(
      `${egressCount} clusters do not fit in --subnet ${
        toIp(network)
      }/${prefix}: ` +
        `it has room for ${room} egress addresses (name fewer clusters or use a larger subnet, e.g. /24)`,
      2,
    );
  }
  const egresses = offsets.map(at);
  return {
    subnet: `${toIp(network)}/${prefix}`,
    gateway: at(1),
    envoy: at(2),
    egresses,
    probeSources: PROBE_OFFSETS.map(at),
    contains: (ip) => {
      const value = toNumber(ip);
      return value !== undefined && value >= network && value < network + size;
    },
    reserved: [at(0), at(1), at(2), ...egresses, at(size - 1)],
  };
}
