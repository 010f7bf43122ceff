/**
 * `wasmerang up local`: the example in the foreground until Ctrl-C, or with
 * `--detach` in a background process recorded in the state file, so that
 * `probe local` and `down local` find it.
 *
 * @module
 */
import { LineWriter } from "../../lib/line_writer.ts";
import { hint } from "../../lib/ui.ts";
import { formatHostPort } from "../../lib/address.ts";
import {
  clusterArgs,
  type EgressFlags,
  type EgressPlan,
  planEgress,
} from "../../lib/clusters.ts";
import {
  describeFilter,
  detachedSummary,
  filterToRun,
  recordedFilter,
  type RunningFilter,
} from "../../lib/running_filter.ts";
import {
  LOCAL_DEFAULTS,
  localConfig,
  type LocalPlane,
  type PlaneOptions,
  startLocalPlane,
} from "../../dataplane/plane.ts";
import {
  detachSelf,
  flagsFor,
  isDetachedChild,
  refuseSecondExample,
  runDetachedChild,
  untilSignal,
} from "../../lib/detach.ts";
import { logFile, stateFile } from "../../lib/state.ts";
import { ROOT_ID } from "../../lib/routing.ts";
import { EMBEDDED_MODULE, moduleSha256 } from "../../lib/judge.ts";
import { refuseBothModules, withChosenModule } from "../../lib/filter_input.ts";

/**
 * The example shows each connection's decision: the filter writes that line
 * at debug (as in Envoy with `--component-log-level wasm:debug`).
 */
const FILTER_LOG_LEVEL = "debug";

/** Options of `wasmerang up local`. */
export interface LocalUpOptions extends EgressFlags {
  listen?: string;
  config?: string;
  wasm?: string;
  /** A filter project folder, built when stale (instead of `wasm`). */
  filter?: string;
  /** The root id the filter starts under (default: the project's, else `wasmerang`). */
  rootId?: string;
  detach?: boolean;
  /** Print what would start where; start and write nothing. */
  dryRun?: boolean;
}

/** The options `up local` takes (any other flag is refused). */
export const LOCAL_UP_OPTIONS = [
  "listen",
  "egress1",
  "egress2",
  "cluster",
  "config",
  "wasm",
  "filter",
  "rootId",
  "detach",
  "dryRun",
] as const satisfies readonly (keyof LocalUpOptions)[];

/** The addresses and clusters, checked before anything starts. */
function plan(options: LocalUpOptions): EgressPlan<"listen"> {
  const planned = planEgress(
    { listen: options.listen ?? LOCAL_DEFAULTS.listen },
    options,
    LOCAL_DEFAULTS,
  );
  // The parity shorthand names its clusters from the configuration.
  if (planned.clusters === undefined) {
    localConfig(options.config ?? LOCAL_DEFAULTS.config);
  }
  return planned;
}

/** What the plane starts: the plan, the filter, the log sinks. */
function planeOptions(
  planned: EgressPlan<"listen">,
  filter: RunningFilter,
  write: (line: string) => void,
): PlaneOptions {
  return {
    listen: planned.fixed.listen,
    egress: planned.egress,
    ...(planned.clusters === undefined ? {} : { clusters: planned.clusters }),
    config: filter.configuration,
    wasm: filter.wasm,
    ...(filter.path === undefined ? {} : { module: filter.path }),
    rootId: filter.rootId,
    onAccess: (line) => write(line),
    onFilterLog: (entry) => write(`[wasm ${entry.level}] ${entry.message}`),
    logLevel: FILTER_LOG_LEVEL,
    egressThreads: true,
  };
}

/** Starts the local example as the options say. */
export async function upLocal(given: LocalUpOptions = {}): Promise<void> {
  refuseBothModules(given);
  const planned = plan(given);
  refuseSecondExample("local");
  // --filter: built here (compiled in memory for a dry run), then run as --wasm.
  const options = await withChosenModule(given, { write: !given.dryRun });
  if (options.dryRun) return await dryRunLocal(options, planned);
  if (options.detach) return await detach(options);
  if (isDetachedChild()) return await runDetachedLocal(options, planned);

  const filter = await filterToRun(options, LOCAL_DEFAULTS.config);
  const out = new LineWriter(Deno.stdout);
  const plane = await startLocalPlane(
    planeOptions(planned, filter, (line) => out.write(line)),
  );
  console.error(describe(plane));
  hint(
    `Probe it from another terminal: ${
      probeCommand(plane, filter.configuration, filter)
    }   ·   stop: Ctrl-C`,
  );
  await untilSignal();
  await plane.close();
  out.flush();
  console.error("stopped");
}

/**
 * The probe command for a foreground example: it records no state, so the
 * probe is told where the proxy listens and which filter it runs (module,
 * root id, configuration, default cluster) when they are not the defaults.
 */
export function probeCommand(
  plane: LocalPlane,
  config: string,
  filter: { path?: string; rootId?: string } = {},
): string {
  const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;
  const parts = ["wasmerang probe local"];
  const listen = formatHostPort(plane.listen.host, plane.listen.port);
  if (listen !== LOCAL_DEFAULTS.listen) parts.push(`--to ${listen}`);
  if (filter.path !== undefined) parts.push(`--wasm ${quote(filter.path)}`);
  if (filter.rootId !== undefined && filter.rootId !== ROOT_ID) {
    parts.push(`--root-id ${quote(filter.rootId)}`);
  }
  if (config !== LOCAL_DEFAULTS.config) parts.push(`--config ${quote(config)}`);
  // Clusters named by --cluster: the probe cannot learn the default from the configuration.
  const first = plane.egress?.[0]?.name;
  if (plane.config === undefined && first !== undefined) {
    parts.push(`--default-cluster ${quote(first)}`);
  }
  return parts.join(" ");
}

/** One line per part: where the proxy and each egress listen, and the filter it runs. */
export function describe(plane: LocalPlane): string {
  const filter = {
    ...(plane.judge.module === EMBEDDED_MODULE
      ? {}
      : { path: plane.judge.module }),
    sha256: moduleSha256(plane.judge.wasm),
    rootId: plane.judge.rootId ?? ROOT_ID,
  };
  const at = (address: { host: string; port: number }) =>
    formatHostPort(address.host, address.port);
  const width = Math.max(
    7,
    ...plane.egress.map((server) => server.name.length),
  );
  return [
    `${"proxy".padEnd(width)} ${at(plane.listen)}`,
    ...plane.egress.map((server, i) =>
      `${server.name.padEnd(width)} ${at(server.address)}${
        i === 0 ? "  (default cluster)" : ""
      }`
    ),
    describeFilter(filter, plane.judge.configuration),
  ].join("\n");
}

/** The background process: the plane, logging to the log file. */
async function runDetachedLocal(
  options: LocalUpOptions,
  planned: EgressPlan<"listen">,
): Promise<void> {
  await runDetachedChild("local", async (write) => {
    const filter = await filterToRun(options, LOCAL_DEFAULTS.config);
    const plane = await startLocalPlane(planeOptions(planned, filter, write));
    const at = (address: { host: string; port: number }) =>
      formatHostPort(address.host, address.port);
    return {
      state: {
        listen: at(plane.listen),
        egress: Object.fromEntries(
          plane.egress.map((server) => [server.name, at(server.address)]),
        ),
        ...recordedFilter(filter),
        defaultCluster: plane.judge.defaultCluster,
      },
      summary: describe(plane).replaceAll("\n", "; "),
      close: () => plane.close(),
    };
  });
}

/** `--dry-run`: what would start where (the module is read to check it); nothing starts. */
async function dryRunLocal(
  options: LocalUpOptions & { compiled?: Uint8Array<ArrayBuffer> },
  planned: EgressPlan<"listen">,
): Promise<void> {
  const filter = await filterToRun(options, LOCAL_DEFAULTS.config);
  const free = (address: { host: string; port: number }) => {
    const text = formatHostPort(address.host, address.port);
    return address.port === 0 ? `${text} (any free port)` : text;
  };
  console.log(
    `dry run: would start the local example ${
      options.detach
        ? `in the background, recorded in ${stateFile("local")}, logging to ${
          logFile("local")
        }`
        : "in the foreground, until Ctrl-C"
    }`,
  );
  if (options.compiled !== undefined) {
    console.log(
      `would first build the filter project's module to ${options.wasm} (its sources changed)`,
    );
  }
  const clusters = planned.clusters ??
    localConfig(filter.configuration).clusters.map((name, i) => ({
      name,
      address: planned.egress[i],
    }));
  const width = Math.max(7, ...clusters.map((cluster) => cluster.name.length));
  console.log(`${"proxy".padEnd(width)} ${free(planned.fixed.listen)}`);
  clusters.forEach((cluster, i) =>
    console.log(
      `${cluster.name.padEnd(width)} ${free(cluster.address)}${
        i === 0 ? "  (default cluster)" : ""
      }`,
    )
  );
  console.log(describeFilter(filter, filter.configuration));
  console.log("nothing was started or written");
}

/** Starts this same command in the background and waits until it listens. */
async function detach(options: LocalUpOptions): Promise<void> {
  const args = [
    ...flagsFor(
      options,
      ["listen", "egress1", "egress2", "config", "rootId"],
      ["wasm"],
    ),
    ...clusterArgs(options),
  ];
  // A bad --wasm is reported here, not in the background.
  await filterToRun(options, LOCAL_DEFAULTS.config);
  const state = await detachSelf("local", args);
  console.log(`local example running in the background (pid ${state.pid})`);
  for (const line of detachedSummary(state, [["proxy", state.listen]])) {
    console.log(line);
  }
  hint(
    "Probe it: wasmerang probe local   ·   stop it: wasmerang down local",
  );
}
