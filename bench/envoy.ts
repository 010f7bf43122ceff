/**
 * Envoy as a benchmark target: the project's bootstrap (the shared
 * template) against the benchmark's egress servers, with or without the wasm
 * filter, one worker thread, access log and Envoy's log to files.
 *
 * @module
 */
import { join } from "node:path";
import { parse, stringify } from "yaml";
import type { HostPort } from "../lib/address.ts";
import type { EnvoyBinary } from "../lib/envoy/binary.ts";
import { envoyBootstrap } from "../lib/envoy/bootstrap.ts";
import { embeddedFilter } from "../lib/filter_module.ts";
import { startEnvoy } from "../lib/envoy/process.ts";

/** A running Envoy target. */
export interface EnvoyTarget {
  pid: number;
  stop(): Promise<void>;
}

type Bootstrap = {
  static_resources: {
    listeners: {
      filter_chains: {
        filters: { name: string; typed_config: Record<string, unknown> }[];
      }[];
    }[];
  };
};

/** Starts Envoy on `listen`; `filter: false` leaves tcp_proxy alone in the chain. */
export async function startEnvoyTarget(options: {
  envoy: EnvoyBinary;
  listen: HostPort;
  admin: HostPort;
  egress: [HostPort, HostPort];
  filter: boolean;
  work: string;
}): Promise<EnvoyTarget> {
  const name = options.filter ? "envoy-filter" : "envoy-tcp-proxy";
  const wasm = join(options.work, `${name}.wasm`);
  await Deno.writeFile(wasm, embeddedFilter());
  const bootstrap = parse(envoyBootstrap({
    writtenBy: "deno task bench",
    checkCommand: "wasmerang check envoy.yaml",
    admin: { address: options.admin.host, port: options.admin.port },
    listener: { address: options.listen.host, port: options.listen.port },
    configuration: "standalone",
    wasmFilename: wasm,
    clusters: ["egress1", "egress2"].map((cluster, i) => ({
      name: cluster,
      address: options.egress[i].host,
      port: options.egress[i].port,
    })),
    clusterType: "STATIC",
  })) as Bootstrap;
  const chain = bootstrap.static_resources.listeners[0].filter_chains[0];
  if (!options.filter) {
    chain.filters = chain.filters.filter((filter) =>
      filter.name !== "envoy.filters.network.wasm"
    );
  }
  // The access log to a file, like the other proxies'.
  const tcpProxy = chain.filters.at(-1)!.typed_config as {
    access_log: { name: string; typed_config: Record<string, unknown> }[];
  };
  const format = tcpProxy.access_log[0].typed_config.log_format;
  tcpProxy.access_log = [{
    name: "envoy.access_loggers.file",
    typed_config: {
      "@type":
        "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
      path: join(options.work, `${name}-access.log`),
      log_format: format,
    },
  }];
  const file = join(options.work, `${name}.yaml`);
  await Deno.writeTextFile(file, stringify(bootstrap));
  const process = await startEnvoy({
    envoy: options.envoy,
    bootstrap: file,
    admin: `${options.admin.host}:${options.admin.port}`,
    concurrency: 1,
    extraArgs: ["--log-path", join(options.work, `${name}.log`)],
  });
  return { pid: process.pid, stop: () => process.stop() };
}
