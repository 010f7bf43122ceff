/**
 * `wasmerang up envoy`: the local example's story on a native Envoy.
 * Foreground or detached exactly like `up local` (lib/detach.ts).
 *
 * @module
 */
import { UserError } from "../../lib/errors.ts";
import { requireEnvoy } from "../../lib/envoy/binary.ts";
import { hint } from "../../lib/ui.ts";
import { formatHostPort } from "../../lib/address.ts";
import {
  clusterArgs,
  type EgressFlags,
  type EgressPlan,
  planEgress,
} from "../../lib/clusters.ts";
import { refuseBothModules, withChosenModule } from "../../lib/filter_input.ts";
import {
  describeFilter,
  detachedSummary,
  filterToRun,
  recordedFilter,
  type RunningFilter,
} from "../../lib/running_filter.ts";
import {
  detachSelf,
  flagsFor,
  isDetachedChild,
  refuseSecondExample,
  runDetachedChild,
  untilSignal,
} from "../../lib/detach.ts";
import { LineWriter } from "../../lib/line_writer.ts";
import { filterLogMessage, parseLogLine } from "../../lib/envoy/process.ts";
import {
  BOOTSTRAP_FILE,
  ENVOY_DEFAULTS,
  envoyDir,
  type EnvoyPlane,
  startEnvoyPlane,
  WASM_FILE,
} from "./plane.ts";
import { join } from "node:path";
import {
  logFile,
  processExecutable,
  processStartTime,
  stateFile,
} from "../../lib/state.ts";

/** Options of `wasmerang up envoy`. */
export interface EnvoyUpOptions extends EgressFlags {
  /** Envoy's listener, `host:port` (default 127.0.0.1:10000). */
  listen?: string;
  /** Envoy's admin, `host:port` (default 127.0.0.1:9901). */
  admin?: string;
  /** The plugin configuration (default `standalone`). */
  config?: string;
  /** A module to run instead of the embedded filter. */
  wasm?: string;
  /** A filter project folder, built when stale (instead of `wasm`). */
  filter?: string;
  /** The root id Envoy starts the filter under (default: the project's, else `wasmerang`). */
  rootId?: string;
  /** The Envoy binary (default `$WASMERANG_ENVOY`, else `envoy` on PATH). */
  envoy?: string;
  /** Run in the background; `down envoy` stops it. */
  detach?: boolean;
  /** Print what would be written and started; write and start nothing. */
  dryRun?: boolean;
}

/** The options `up envoy` takes (any other flag is refused). */
export const ENVOY_UP_OPTIONS = [
  "listen",
  "admin",
  "egress1",
  "egress2",
  "cluster",
  "config",
  "wasm",
  "filter",
  "rootId",
  "envoy",
  "detach",
  "dryRun",
] as const satisfies readonly (keyof EnvoyUpOptions)[];

/**
 * Whether an Envoy log line is worth a terminal: anything but routine
 * start-up chatter and Envoy's own debug lines about its Wasm VMs (the wasm
 * component runs at debug so that the filter's decision lines show).
 */
function worthShowing(line: string): boolean {
  const parsed = parseLogLine(line);
  if (parsed === undefined) return true;
  const { level, component } = parsed;
  if (component !== "wasm") return level !== "info";
  return level !== "debug" || filterLogMessage(line) !== undefined;
}

/**
 * The address options and clusters, checked together before anything
 * starts: IPv6 `--listen` (the probe cannot reach it) and clashing
 * addresses are refused.
 */
function addresses(options: EnvoyUpOptions): EgressPlan<"listen" | "admin"> {
  return planEgress(
    {
      listen: options.listen ?? ENVOY_DEFAULTS.listen,
      admin: options.admin ?? ENVOY_DEFAULTS.admin,
    },
    options,
    ENVOY_DEFAULTS,
  );
}

async function start(
  options: EnvoyUpOptions,
  write: (line: string) => void,
  show: (line: string) => boolean,
): Promise<{ plane: EnvoyPlane; filter: RunningFilter }> {
  const envoy = await requireEnvoy(options.envoy);
  const planned = addresses(options);
  const filter = await filterToRun(options, ENVOY_DEFAULTS.config);
  const plane = await startEnvoyPlane({
    envoy,
    listen: planned.fixed.listen,
    admin: planned.fixed.admin,
    egress: planned.egress,
    ...(planned.clusters === undefined ? {} : { clusters: planned.clusters }),
    config: filter.configuration,
    wasm: filter.wasm,
    ...(filter.path === undefined ? {} : { module: filter.path }),
    rootId: filter.rootId,
    dir: envoyDir(),
    onLog: (line) => show(line) && write(line),
    onAccess: write,
    egressThreads: true,
  });
  return { plane, filter };
}

/** One line per part: Envoy, its admin, each egress, the filter. */
function describe(plane: EnvoyPlane, filter: RunningFilter): string {
  const at = (address: { host: string; port: number }) =>
    formatHostPort(address.host, address.port);
  const width = Math.max(
    7,
    ...plane.egress.map((server) => server.name.length),
  );
  return [
    `${"envoy".padEnd(width)} ${
      at(plane.listen)
    }  (pid ${plane.envoy.pid}, bootstrap ${plane.bootstrap})`,
    `${"admin".padEnd(width)} http://${at(plane.admin)}`,
    ...plane.egress.map((server, i) =>
      `${server.name.padEnd(width)} ${at(server.address)}${
        i === 0 ? "  (default cluster)" : ""
      }`
    ),
    describeFilter(filter, filter.configuration),
  ].join("\n");
}

/** `--dry-run`: what would be written and started (the module is read to check it); nothing is. */
async function dryRunEnvoy(
  options: EnvoyUpOptions & { compiled?: Uint8Array<ArrayBuffer> },
): Promise<void> {
  const planned = addresses(options);
  const filter = await filterToRun(options, ENVOY_DEFAULTS.config);
  const envoy = options.envoy !== undefined
    ? `--envoy ${options.envoy}`
    : Deno.env.get("WASMERANG_ENVOY")
    ? `$WASMERANG_ENVOY ${Deno.env.get("WASMERANG_ENVOY")}`
    : "envoy on PATH";
  const free = (address: { host: string; port: number }) => {
    const text = formatHostPort(address.host, address.port);
    return address.port === 0 ? `${text} (any free port)` : text;
  };
  console.log(
    `dry run: would write ${
      join(envoyDir(), BOOTSTRAP_FILE)
    } (the bootstrap, configuration ${filter.configuration}) and ${
      join(envoyDir(), WASM_FILE)
    } (${
      options.wasm ?? "the embedded module"
    }), then start Envoy (${envoy}) on it ${
      options.detach
        ? `in the background, recorded in ${stateFile("envoy")}, logging to ${
          logFile("envoy")
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
    ["egress1", "egress2"].map((name, i) => ({
      name,
      address: planned.egress[i],
    }));
  const width = Math.max(7, ...clusters.map((cluster) => cluster.name.length));
  console.log(`${"envoy".padEnd(width)} ${free(planned.fixed.listen)}`);
  console.log(`${"admin".padEnd(width)} ${free(planned.fixed.admin)}`);
  clusters.forEach((cluster, i) =>
    console.log(
      `${cluster.name.padEnd(width)} ${free(cluster.address)}${
        planned.clusters !== undefined && i === 0 ? "  (default cluster)" : ""
      }`,
    )
  );
  if (planned.clusters !== undefined || options.wasm || options.rootId) {
    console.log(describeFilter(filter, filter.configuration));
  }
  console.log("nothing was started or written");
}

/** Starts the example as the options say. */
export async function upEnvoy(given: EnvoyUpOptions = {}): Promise<void> {
  refuseBothModules(given);
  addresses(given); // usage mistakes first, before anything starts
  refuseSecondExample("envoy");
  // --filter: built here (compiled in memory for a dry run), then run as --wasm.
  const options = await withChosenModule(given, { write: !given.dryRun });
  if (options.dryRun) return await dryRunEnvoy(options);
  if (isDetachedChild()) {
    return await runDetachedChild("envoy", async (write) => {
      const { plane, filter } = await start(options, write, () => true);
      const at = (address: { host: string; port: number }) =>
        formatHostPort(address.host, address.port);
      write(plane.loaded);
      return {
        state: {
          listen: at(plane.listen),
          admin: at(plane.admin),
          envoyPid: plane.envoy.pid,
          // Envoy has exec'd by now (its admin answered): `down` knows it by these.
          envoyStartTime: processStartTime(plane.envoy.pid),
          envoyPath: processExecutable(plane.envoy.pid),
          egress: Object.fromEntries(
            plane.egress.map((server) => [server.name, at(server.address)]),
          ),
          ...recordedFilter(filter),
          defaultCluster: plane.judge.defaultCluster,
        },
        summary: describe(plane, filter).replaceAll("\n", "; "),
        stopped: plane.envoy.exited,
        close: () => plane.close(),
      };
    });
  }
  if (options.detach) {
    await requireEnvoy(options.envoy); // reported here, not in the background
    await filterToRun(options, ENVOY_DEFAULTS.config);
    const args = [
      ...flagsFor(
        options,
        ["listen", "admin", "egress1", "egress2", "config", "rootId"],
        ["wasm", "envoy"],
      ),
      ...clusterArgs(options),
    ];
    const state = await detachSelf("envoy", args, 60_000);
    console.log(
      `envoy example running in the background (pid ${state.pid}, Envoy pid ${state.envoyPid})`,
    );
    for (
      const line of detachedSummary(state, [
        ["envoy", state.listen],
        ["admin", `http://${state.admin}`],
      ])
    ) console.log(line);
    const loaded = Deno.readTextFileSync(state.logFile).split("\n").reverse()
      .find((line) => line.startsWith("plugin "));
    if (loaded) console.log(loaded);
    hint("Probe it: wasmerang probe envoy   ·   stop it: wasmerang down envoy");
    return;
  }
  // Listening from the start: Ctrl-C reaches Envoy too (same process group),
  // and its exit then is the stop asked for, not a failure.
  let interrupted = false;
  const signalled = untilSignal().then(() => {
    interrupted = true;
  });
  const out = new LineWriter(Deno.stdout);
  const { plane, filter } = await start(
    options,
    (line) => out.write(line),
    worthShowing,
  );
  console.error(describe(plane, filter));
  console.error(plane.loaded);
  hint(
    "Probe it from another terminal: wasmerang probe envoy   ·   stop: Ctrl-C",
  );
  const reason = await Promise.race([
    signalled.then(() => undefined),
    plane.envoy.exited.then(async (why) => {
      await new Promise((done) => setTimeout(done, 200));
      return interrupted ? undefined : why;
    }),
  ]);
  await plane.close();
  out.flush();
  if (reason !== undefined) throw new UserError(reason);
  console.error("stopped");
}
