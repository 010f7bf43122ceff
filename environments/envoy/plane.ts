/**
 * The example on a native Envoy: the same egress servers as `up local`, a
 * bootstrap from the shared template with loopback addresses (module beside
 * it), and Envoy started on it. Ready means admin `/ready` is 200 and the
 * plugin's VMs are active in admin `/stats`. Anything that fails stops what
 * was started.
 *
 * @module
 */
import { join } from "node:path";
import { stateDir } from "../../lib/state.ts";
import { UserError } from "../../lib/errors.ts";
import type { EnvoyBinary } from "../../lib/envoy/binary.ts";
import {
  type BootstrapCluster,
  envoyBootstrap,
} from "../../lib/envoy/bootstrap.ts";
import { writeFileAtomically } from "../../lib/atomic_write.ts";
import {
  decideCluster,
  DEFAULT_CONFIG,
  type FilterConfig,
  parseFilterConfig,
} from "../../lib/routing.ts";
import { formatHostPort, type HostPort } from "../../lib/address.ts";
import { adminStats, filterCounters } from "../../lib/envoy/admin.ts";
import { type EgressServer, startEgress } from "../../dataplane/egress.ts";
import { EMBEDDED_MODULE, type ProbeJudge } from "../../lib/judge.ts";
import { ROOT_ID } from "../../lib/routing.ts";
import { startEgressThread } from "../../dataplane/egress_thread.ts";
import {
  type EnvoyProcess,
  filterLogMessage,
  startEnvoy,
} from "../../lib/envoy/process.ts";

/** Defaults of `wasmerang up envoy`. */
export const ENVOY_DEFAULTS = {
  listen: "127.0.0.1:10000",
  admin: "127.0.0.1:9901",
  egress1: "127.0.0.1:19001",
  egress2: "127.0.0.1:19002",
  config: "standalone",
} as const;

/** The bootstrap's and the module's file names in the plane's folder. */
export const BOOTSTRAP_FILE = "envoy.yaml";

/** Where `up envoy` writes its bootstrap and module. */
export function envoyDir(): string {
  return join(stateDir(), "envoy");
}
/** The module's file name beside the bootstrap. */
export const WASM_FILE = "wasmerang.wasm";

/** What to start. */
export interface EnvoyPlaneOptions {
  /** The Envoy to run. */
  envoy: EnvoyBinary;
  /** Envoy's listener (port 0: a free port, chosen before Envoy starts). */
  listen: HostPort;
  /** Envoy's admin (port 0: a free port). */
  admin: HostPort;
  /** The parity filter's even and odd egress servers (ignored with `clusters`). */
  egress?: [HostPort, HostPort];
  /**
   * The clusters by name, each with its egress's address; the first is
   * tcp_proxy's default. With these the configuration is the filter's alone.
   */
  clusters?: readonly { name: string; address: HostPort }[];
  /** The plugin configuration. */
  config: string;
  /** The filter module. */
  wasm: Uint8Array;
  /** The module's path for reports (default: the embedded filter). */
  module?: string;
  /** The root id Envoy starts the filter under (default `wasmerang`). */
  rootId?: string;
  /** The wasm filter as an EnvoyFilter patch gives it (its module path is replaced). */
  wasmFilter?: Record<string, unknown>;
  /** The tcp_proxy filter as an EnvoyFilter patch gives it. */
  tcpProxyFilter?: Record<string, unknown>;
  /** Where to write the bootstrap and module (default: a new temporary folder, removed on close). */
  dir?: string;
  /** Envoy's log lines. */
  onLog?: (line: string) => void;
  /** Envoy's access-log lines. */
  onAccess?: (line: string) => void;
  /** Egress servers on their own threads (as `up envoy` runs them). */
  egressThreads?: boolean;
  /** Envoy's worker threads. */
  concurrency?: number;
  /**
   * Envoy's log level for its `wasm` component, which the filter asks for:
   * at `debug` (the default) it writes one line per connection, at `info`
   * only its configuration, warnings and errors.
   */
  wasmLogLevel?: "debug" | "info";
}

/** A running Envoy example. */
export interface EnvoyPlane {
  /** Envoy's listener. */
  readonly listen: HostPort;
  /** Envoy's admin. */
  readonly admin: HostPort;
  /** The egress servers, named after their clusters, the default first. */
  readonly egress: readonly EgressServer[];
  /** The parity filter's configuration as it reads it (the default when it refuses it, or with `clusters`). */
  readonly config: FilterConfig;
  /** The module, root id and configuration Envoy runs, and its default cluster: what a probe expects by. */
  readonly judge: ProbeJudge;
  /** The Envoy process. */
  readonly envoy: EnvoyProcess;
  /** The bootstrap Envoy runs. */
  readonly bootstrap: string;
  /** Proof the plugin loaded, from Envoy's admin and log. */
  readonly loaded: string;
  /** The filter's counters (`wasmerang.…`) from admin `/stats`. */
  counters(): Promise<Record<string, number>>;
  /** Stops Envoy and the egress servers (and removes a temporary folder). */
  close(): Promise<void>;
}

/** Fails with one line when something already listens at `address`; port 0 becomes a free port. */
async function claim(address: HostPort, flag: string): Promise<HostPort> {
  let listener: Deno.Listener;
  try {
    listener = Deno.listen({ hostname: address.host, port: address.port });
  } catch (error) {
    const where = formatHostPort(address.host, address.port);
    if (error instanceof Deno.errors.AddrInUse) {
      throw new UserError(
        `${flag} ${where} is already in use: stop what listens there (wasmerang down envoy) or choose another port`,
      );
    }
    throw new UserError(`${flag} ${where}: ${(error as Error).message}`);
  }
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await Promise.resolve();
  return { host: address.host, port };
}

/** The filter's two clusters for connections to `listen` (even, odd). */
function clusterNames(
  config: FilterConfig,
  listen: HostPort,
): [string, string] {
  const destination = formatHostPort(listen.host, listen.port);
  const [even, odd] = ["127.0.0.2:1", "127.0.0.3:1"].map((source) =>
    decideCluster(source, destination, config)
  );
  if (even === undefined || odd === undefined) {
    throw new UserError("--config: the filter would choose no cluster here", 2);
  }
  return [even, odd];
}

/** Replaces the module path in a wasm filter (an EnvoyFilter patch value). */
function withFilename(
  filter: Record<string, unknown>,
  filename: string,
): Record<string, unknown> {
  const copy = structuredClone(filter) as {
    typed_config: { config: { vm_config: { code: unknown } } };
  };
  copy.typed_config.config.vm_config.code = { local: { filename } };
  return copy as unknown as Record<string, unknown>;
}

/** An egress server as a bootstrap cluster (its name, its one endpoint). */
export function bootstrapCluster(server: EgressServer): BootstrapCluster {
  return {
    name: server.name,
    address: server.address.host,
    port: server.address.port,
  };
}

/** Starts the egress servers, writes the bootstrap and module, starts Envoy. */
export async function startEnvoyPlane(
  options: EnvoyPlaneOptions,
): Promise<EnvoyPlane> {
  // Envoy judges the configuration: one the filter refuses still goes to
  // Envoy (egresses named by default), so the error is Envoy's own.
  let config: FilterConfig = DEFAULT_CONFIG;
  let refused: string | undefined;
  if (options.clusters === undefined) {
    try {
      config = parseFilterConfig(options.config);
    } catch (error) {
      refused = (error as Error).message;
    }
  }
  const listen = await claim(options.listen, "--listen");
  const admin = await claim(options.admin, "--admin");
  const planned = options.clusters ??
    clusterNames(config, listen).map((name, i) => {
      const address = options.egress?.[i];
      if (address === undefined) {
        throw new Error("startEnvoyPlane needs egress or clusters");
      }
      return { name, address };
    });
  if (planned.length === 0) throw new Error("startEnvoyPlane needs a cluster");
  const rootId = options.rootId ?? ROOT_ID;
  const temporary = options.dir === undefined;
  const dir = options.dir ??
    await Deno.makeTempDir({ prefix: "wasmerang-envoy-" });
  const started: { close(): Promise<void> }[] = [];
  const closeAll = async () => {
    for (const part of started.reverse()) await part.close();
    if (temporary) await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    const egress: EgressServer[] = [];
    for (const cluster of planned) {
      const start = options.egressThreads ? startEgressThread : startEgress;
      const server = await start(cluster.name, cluster.address);
      started.push(server);
      egress.push(server);
    }
    await Deno.mkdir(dir, { recursive: true });
    const wasmPath = join(dir, WASM_FILE);
    const bootstrap = join(dir, BOOTSTRAP_FILE);
    await writeFileAtomically(wasmPath, options.wasm);
    await writeFileAtomically(
      bootstrap,
      new TextEncoder().encode(envoyBootstrap({
        writtenBy: "wasmerang up envoy",
        checkCommand: `wasmerang check ${bootstrap}`,
        admin: { address: admin.host, port: admin.port },
        listener: { address: listen.host, port: listen.port },
        configuration: options.config,
        rootId,
        wasmFilename: wasmPath,
        clusters: egress.map(bootstrapCluster),
        clusterType: "STATIC",
        wasmFilter: options.wasmFilter === undefined
          ? undefined
          : withFilename(options.wasmFilter, wasmPath),
        tcpProxyFilter: options.tcpProxyFilter,
      })),
    );
    let configured: string | undefined;
    const envoy = await startEnvoy({
      envoy: options.envoy,
      bootstrap,
      admin: formatHostPort(admin.host, admin.port),
      concurrency: options.concurrency,
      extraArgs: [
        "--component-log-level",
        `wasm:${options.wasmLogLevel ?? "debug"}`,
      ],
      onLog: (line) => {
        // The filter's first line at info or above (its debug lines say less).
        const entry = filterLogMessage(line);
        if (entry !== undefined && !["debug", "trace"].includes(entry.level)) {
          configured ??= entry.message;
        }
        options.onLog?.(line);
      },
      onStdout: options.onAccess,
    });
    started.push({ close: () => envoy.stop() });
    if (refused !== undefined) {
      throw new Error(
        `Envoy accepted a configuration the filter refuses in our host (${refused})`,
      );
    }
    const adminAddress = formatHostPort(admin.host, admin.port);
    const vms = await adminStats(
      adminAddress,
      "^wasm\\.envoy\\.wasm\\.runtime\\.v8\\.active$",
    );
    const active = vms["wasm.envoy.wasm.runtime.v8.active"] ?? 0;
    if (active < 1) {
      throw new UserError(
        "Envoy is ready but reports no active V8 Wasm VM (admin /stats wasm.envoy.wasm.runtime.v8.active = 0)",
      );
    }
    const loaded = `plugin ${(options.wasmFilter
      ? "from the given filter"
      : rootId)} loaded: ${active} V8 VMs active (admin /stats)${
      configured ? `; Envoy's log: ${configured}` : ""
    }`;
    return {
      listen,
      admin,
      egress,
      config,
      judge: {
        wasm: options.wasm,
        rootId,
        configuration: options.config,
        defaultCluster: planned[0].name,
        module: options.module ?? EMBEDDED_MODULE,
      },
      envoy,
      bootstrap,
      loaded,
      counters: () =>
        filterCounters(adminAddress),
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
