/**
 * What `up`, `probe` and `down` need to know about a Docker example folder:
 * the compose command for it, and the facts read back from its files (the
 * subnet, Envoy's address, the filter's configuration).
 */
import * as path from "node:path";
import { parse } from "yaml";
import { UserError } from "../../lib/errors.ts";
import { adminReady } from "../../lib/envoy/admin.ts";
import { ROOT_ID } from "../../lib/routing.ts";
import { DEFAULT_CLUSTER_NAMES } from "../../lib/clusters.ts";
import { runChecked } from "../../lib/commands.ts";
import { WASM_FILE } from "./templates.ts";
import {
  ADMIN_PORT,
  COMPOSE_PROJECT,
  DEFAULT_SUBNET,
  type DockerNetwork,
  dockerNetwork,
} from "./network.ts";

/** `docker compose -f DIR/docker-compose.yaml`, the prefix of every compose command. */
export function composeCommand(dir: string): string[] {
  return ["docker", "compose", "-f", path.join(dir, "docker-compose.yaml")];
}

/** Envoy's readiness endpoint, published on 127.0.0.1. */
export const READY_URL = `http://127.0.0.1:${ADMIN_PORT}/ready`;

/** Facts read from a scaffolded (and possibly edited) folder. */
export interface DockerExample {
  network: DockerNetwork;
  /** Envoy's address on the compose network. */
  envoyAddress: string;
  /** The wasm filter's configuration in envoy.yaml ("standalone" when not found). */
  filterConfiguration: string;
  /** The wasm filter's root id in envoy.yaml (`wasmerang` when not found). */
  rootId: string;
  /** tcp_proxy's `cluster` in envoy.yaml: where a connection the filter leaves alone goes. */
  defaultCluster: string;
  /** The clusters envoy.yaml defines, in order (`egress1`, `egress2` when none is found). */
  clusters: string[];
  /** The module the folder ships, beside envoy.yaml. */
  wasmFile: string;
}

function at(value: unknown, ...keys: (string | number)[]): unknown {
  let node = value;
  for (const key of keys) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

/**
 * The network of a folder's compose file: the subnet's addresses for its
 * egresses, every fixed address its services take counted as reserved (an
 * edited file may have moved them).
 */
function exampleNetwork(
  subnet: string,
  egressCount: number,
  compose: unknown,
): DockerNetwork {
  let network: DockerNetwork;
  try {
    network = dockerNetwork(subnet, egressCount);
  } catch (error) {
    if (!(error instanceof UserError) || egressCount === 2) throw error;
    network = dockerNetwork(subnet);
  }
  const services = at(compose, "services");
  const taken = Object.values(
    services !== null && typeof services === "object" ? services : {},
  ).map((service) => at(service, "networks", "wasmerang", "ipv4_address"))
    .filter((ip): ip is string => typeof ip === "string");
  return {
    ...network,
    reserved: [...new Set([...network.reserved, ...taken])],
  };
}

/** Reads the example in `dir`; a missing folder is a one-line error naming the fix. */
export async function readDockerExample(dir: string): Promise<DockerExample> {
  const composeFile = path.join(dir, "docker-compose.yaml");
  let compose: unknown;
  let envoy: unknown;
  try {
    compose = parse(await Deno.readTextFile(composeFile));
    envoy = parse(await Deno.readTextFile(path.join(dir, "envoy.yaml")));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new UserError(
        `no Docker example in ${dir}/ (run 'wasmerang up docker${
          dir === "envoy-docker" ? "" : ` --dir ${dir}`
        }')`,
        2,
      );
    }
    throw new UserError(
      `cannot read the Docker example in ${dir}/: ${(error as Error).message}`,
      2,
    );
  }
  const subnet = at(
    compose,
    "networks",
    "wasmerang",
    "ipam",
    "config",
    0,
    "subnet",
  );
  const clusters = (() => {
    const listed = at(envoy, "static_resources", "clusters");
    const names = (Array.isArray(listed) ? listed : [])
      .map((cluster) => at(cluster, "name"))
      .filter((name): name is string => typeof name === "string");
    return names.length > 0 ? names : [...DEFAULT_CLUSTER_NAMES];
  })();
  const network = exampleNetwork(
    typeof subnet === "string" ? subnet : DEFAULT_SUBNET,
    clusters.length,
    compose,
  );
  const envoyAddress = at(
    compose,
    "services",
    "envoy",
    "networks",
    "wasmerang",
    "ipv4_address",
  );
  let filterConfiguration = "standalone";
  let rootId = ROOT_ID;
  let defaultCluster = clusters[0];
  const chains = at(envoy, "static_resources", "listeners", 0, "filter_chains");
  for (const chain of Array.isArray(chains) ? chains : []) {
    for (
      const filter of Array.isArray(at(chain, "filters"))
        ? at(chain, "filters") as unknown[]
        : []
    ) {
      const config = at(filter, "typed_config", "config");
      const value = at(config, "configuration", "value");
      const root = at(config, "root_id");
      if (typeof root === "string" && root !== "") {
        rootId = root;
        if (typeof value === "string") filterConfiguration = value;
      }
      const cluster = at(filter, "typed_config", "cluster");
      if (
        at(filter, "name") === "envoy.filters.network.tcp_proxy" &&
        typeof cluster === "string"
      ) defaultCluster = cluster;
    }
  }
  return {
    network,
    envoyAddress: typeof envoyAddress === "string"
      ? envoyAddress
      : network.envoy,
    filterConfiguration,
    rootId,
    defaultCluster,
    clusters,
    wasmFile: path.join(dir, WASM_FILE),
  };
}

/**
 * The line of a docker or Compose failure worth showing: the daemon's own
 * error (`Error response from daemon: …`) rather than the CLI's closing hint
 * ("Run 'docker run --help' for more information").
 */
export function dockerErrorLine(stderr: string): string | undefined {
  const lines = stderr.split("\n").map((line) => line.trim())
    .filter((line) =>
      line !== "" && !/^(Run|See) 'docker .*--help'/.test(line)
    );
  return lines.findLast((line) => /Error response from daemon/i.test(line)) ??
    lines.findLast((line) => /\berror\b/i.test(line)) ?? lines.at(-1);
}

/**
 * One line per container of the example's Compose project (running or not),
 * as `format` (a `docker ps --format` template) prints it; blank lines dropped.
 */
export async function projectContainers(format: string): Promise<string[]> {
  const listed = await runChecked([
    "docker",
    "ps",
    "-a",
    "--filter",
    `label=com.docker.compose.project=${COMPOSE_PROJECT}`,
    "--format",
    format,
  ], { timeoutMs: 30_000 });
  return listed.split("\n").map((line) => line.trim()).filter((line) =>
    line !== ""
  );
}

/**
 * One Compose project name serves every folder (the network and ports are
 * fixed too): refuses to start or stop while another folder's example runs.
 */
export async function refuseOtherFolder(dir: string): Promise<void> {
  const ours = path.resolve(dir, "docker-compose.yaml");
  const configFiles = await projectContainers(
    '{{.Label "com.docker.compose.project.config_files"}}',
  );
  const others = [
    ...new Set(
      configFiles.filter((line) => !line.split(",").includes(ours)),
    ),
  ];
  if (others.length > 0) {
    const other = path.dirname(others[0].split(",")[0]);
    throw new UserError(
      `the Docker example of ${other}/ runs (compose project ${COMPOSE_PROJECT}): ` +
        `stop it first with 'wasmerang down docker --dir ${other}'`,
    );
  }
}

/** Envoy's admin as published on loopback, `host:port`. */
export const ADMIN_ADDRESS = `127.0.0.1:${ADMIN_PORT}`;

/** Whether Envoy's admin answers `/ready` with 200. */
export async function envoyReady(timeoutMs = 2000): Promise<boolean> {
  return await adminReady(ADMIN_ADDRESS, timeoutMs);
}
