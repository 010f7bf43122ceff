/** `wasmerang route`: run the filter in the embedded host and print its decision per source. */
import {
  ConfigurationRejectedError,
  ProxyWasmVm,
  WasmTrapError,
} from "../host/mod.ts";
import { UserError } from "../lib/errors.ts";
import { loadFilter } from "../lib/filter_module.ts";
import {
  portOf,
  ROOT_ID,
  sourceParity,
  TCP_PROXY_CLUSTER_KEY,
} from "../lib/routing.ts";

/** Options of `wasmerang route`. */
export interface RouteOptions {
  config: string;
  destination: string;
  wasm?: string;
  json?: boolean;
  verbose?: boolean;
}

/** One connection's outcome: exactly an element of `--json`'s array. */
export interface RouteDecision {
  source: string;
  cluster: string | null;
  /** Why the filter set no cluster (from its own log), when it says so. */
  reason?: string;
  /** What trapped, e.g. `unreachable in proxy_on_new_connection`; the other sources still ran. */
  trapped?: string;
  logs: string[];
}

async function loadVm(wasm: Uint8Array, config: string): Promise<ProxyWasmVm> {
  try {
    return await ProxyWasmVm.load(wasm, {
      rootId: ROOT_ID,
      configuration: config,
      // The filter writes its decision line at debug; route shows it (--verbose, --json).
      logLevel: "debug",
    });
  } catch (error) {
    if (error instanceof ConfigurationRejectedError) {
      throw new UserError(error.message);
    }
    if (error instanceof WasmTrapError) {
      throw new UserError(
        `the filter trapped while starting: ${error.detail} in ${error.hook} (no source could be routed)`,
      );
    }
    throw error;
  }
}

/** The filter's own reason for leaving the cluster alone: its "no override (…)" note, else its last warning. */
function noOverrideReason(
  logs: readonly { level: string; message: string }[],
): string | undefined {
  for (const entry of [...logs].reverse()) {
    const note = /no override \(([^)]*)\)/.exec(entry.message);
    if (note) return note[1];
  }
  const warning = [...logs].reverse().find((entry) =>
    entry.level === "warn" || entry.level === "error" ||
    entry.level === "critical"
  );
  return warning?.message;
}

/**
 * Opens one connection per source and returns the cluster each was given. A
 * source whose connection traps is reported as trapped and, as in Envoy, the
 * next sources run in a fresh VM.
 */
export async function decideRoutes(
  sources: string[],
  options: Omit<RouteOptions, "json" | "verbose">,
): Promise<RouteDecision[]> {
  if (
    sourceParity(options.destination) === undefined ||
    portOf(options.destination) === undefined
  ) {
    throw new UserError(
      `--destination "${options.destination}" is not an address with a port: use e.g. 10.96.0.1:443`,
      2,
    );
  }
  const wasm = await loadFilter(options.wasm);
  let vm = await loadVm(wasm, options.config);
  const decisions: RouteDecision[] = [];
  for (const source of sources) {
    if (vm.failure !== undefined) vm = await loadVm(wasm, options.config);
    const logged = vm.logs.length;
    try {
      const connection = vm.openConnection({
        source,
        destination: options.destination,
      });
      connection.finish();
      const cluster = connection.filterState.get(TCP_PROXY_CLUSTER_KEY) ??
        null;
      const reason = cluster === null
        ? noOverrideReason(connection.logs)
        : undefined;
      decisions.push({
        source,
        cluster,
        ...(reason === undefined ? {} : { reason }),
        logs: connection.logs.map((entry) =>
          `[${entry.level}] ${entry.message}`
        ),
      });
    } catch (error) {
      if (!(error instanceof WasmTrapError)) throw error;
      decisions.push({
        source,
        cluster: null,
        trapped: `${error.detail} in ${error.hook}`,
        logs: vm.logs.slice(logged).map((entry) =>
          `[${entry.level}] ${entry.message}`
        ),
      });
    }
  }
  vm.close();
  return decisions;
}

/** The text after the arrow: the cluster, or why there is none. */
function outcome(decision: RouteDecision): string {
  if (decision.trapped !== undefined) return `trapped: ${decision.trapped}`;
  if (decision.cluster !== null) return decision.cluster;
  return decision.reason === undefined
    ? "(no override)"
    : `(no override: ${decision.reason})`;
}

/** Prints `source → cluster` per source, or one JSON array with `--json`; exit 1 when a source trapped. */
export async function route(
  sources: string[],
  options: RouteOptions,
): Promise<void> {
  const decisions = await decideRoutes(sources, options);
  if (options.json) {
    console.log(JSON.stringify(decisions, null, 2));
  } else {
    const width = Math.max(
      ...decisions.map((decision) => decision.source.length),
    );
    for (const decision of decisions) {
      console.log(`${decision.source.padEnd(width)} → ${outcome(decision)}`);
      if (options.verbose) {
        for (const line of decision.logs) console.log(`    ${line}`);
      }
    }
  }
  const trapped = decisions.filter((decision) => decision.trapped);
  if (trapped.length > 0) {
    throw new UserError(
      `the filter trapped on ${trapped.length} of ${decisions.length} source(s): ` +
        "a trap in Envoy closes that connection; fix the filter so it never traps on input",
    );
  }
}
