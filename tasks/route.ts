/** `wasmerang route`: run the filter in the embedded host and print its decision per source. */
import { UserError } from "../lib/errors.ts";
import { loadFilter } from "../lib/filter_module.ts";
import { moduleFromFlags } from "../lib/filter_input.ts";
import { type Decision, judgeAll } from "../lib/judge.ts";
import { portOf, ROOT_ID, sourceParity } from "../lib/routing.ts";

/** Options of `wasmerang route`. */
export interface RouteOptions {
  config: string;
  destination: string;
  /** A built module (default: the embedded filter). */
  wasm?: string;
  /** A filter project folder, built when its sources changed (instead of `wasm`). */
  filter?: string;
  /** The root id to start the filter under (default: the project's, else `wasmerang`). */
  rootId?: string;
  json?: boolean;
  verbose?: boolean;
}

/** One connection's outcome: exactly an element of `--json`'s array. */
export type RouteDecision = Decision;

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
  const chosen = await moduleFromFlags(options);
  const wasm = await loadFilter(chosen.wasm);
  return await judgeAll(
    {
      wasm,
      rootId: chosen.rootId ?? ROOT_ID,
      configuration: options.config,
    },
    sources,
    options.destination,
  );
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
