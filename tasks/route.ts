/** `wasmerang route`: run the filter in the embedded host and print its decision per source. */
import { ConfigurationRejectedError, ProxyWasmVm } from "../host/mod.ts";
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
  logs: string[];
}

/** Opens one connection per source in a fresh VM and returns the cluster each was given. */
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
  let vm: ProxyWasmVm;
  try {
    vm = await ProxyWasmVm.load(wasm, {
      rootId: ROOT_ID,
      configuration: options.config,
    });
  } catch (error) {
    if (error instanceof ConfigurationRejectedError) {
      throw new UserError(error.message);
    }
    throw error;
  }
  return sources.map((source) => {
    const connection = vm.openConnection({
      source,
      destination: options.destination,
    });
    connection.finish();
    return {
      source,
      cluster: connection.filterState.get(TCP_PROXY_CLUSTER_KEY) ?? null,
      logs: connection.logs.map((entry) => `[${entry.level}] ${entry.message}`),
    };
  });
}

/** Prints `source → cluster` per source, or one JSON array with `--json`. */
export async function route(
  sources: string[],
  options: RouteOptions,
): Promise<void> {
  const decisions = await decideRoutes(sources, options);
  if (options.json) {
    console.log(JSON.stringify(decisions, null, 2));
    return;
  }
  const width = Math.max(
    ...decisions.map((decision) => decision.source.length),
  );
  for (const decision of decisions) {
    console.log(
      `${decision.source.padEnd(width)} → ${
        decision.cluster ?? "(no override)"
      }`,
    );
    if (options.verbose) {
      for (const line of decision.logs) console.log(`    ${line}`);
    }
  }
}
