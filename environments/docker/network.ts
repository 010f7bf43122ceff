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
/** The port egress1 and egress2 listen on. */
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
  /** egress1's address: the subnet's base + 3. */
  egress1: string;
  /** egress2's address: the subnet's base + 4. */
  egress2: string;
  /** Default probe sources: two even and two odd last octets. */
  probeSources: string[];
  /** Whether `ip` lies inside the subnet. */
  contains(ip: string): boolean;
  /** Addresses in use (network, gateway, the services, broadcast): probes may not take them. */
  reserved: string[];
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
 * addresses) and derives the example's addresses: gateway .1, Envoy .2,
 * egress1 .3, egress2 .4, probe sources .10 to .13.
 */
export function dockerNetwork(subnet: string = DEFAULT_SUBNET): DockerNetwork {
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
  return {
    subnet: `${toIp(network)}/${prefix}`,
    gateway: at(1),
    envoy: at(2),
    egress1: at(3),
    egress2: at(4),
    probeSources: [10, 11, 12, 13].map(at),
    contains: (ip) => {
      const value = toNumber(ip);
      return value !== undefined && value >= network && value < network + size;
    },
    reserved: [at(0), at(1), at(2), at(3), at(4), at(size - 1)],
  };
}
