/**
 * The module is the judge: what a filter chooses for a connection, asked of
 * the filter itself. The same module, root id and configuration a proxy runs
 * are started in the project's host (host/), and one connection per source is
 * opened there; the cluster it leaves in the filter state
 * `envoy.tcp_proxy.cluster` is its decision. `route` prints these decisions
 * and every probe expects them, so a filter with any rule is judged by its
 * own rule.
 *
 * @example
 * ```ts
 * import { embeddedFilter } from "./filter_module.ts";
 * import { judgeAll } from "./judge.ts";
 * const [decision] = await judgeAll(
 *   { wasm: embeddedFilter(), configuration: "standalone" },
 *   ["10.0.0.2"],
 *   "10.96.0.1:443",
 * );
 * decision.cluster; // "egress1"
 * ```
 *
 * @module
 */
import {
  ConfigurationRejectedError,
  ProxyWasmVm,
  WasmTrapError,
} from "../host/mod.ts";
import { createHash } from "node:crypto";
import { UserError } from "./errors.ts";
import { ROOT_ID, TCP_PROXY_CLUSTER_KEY } from "./routing.ts";

/** How a report names the module the tool carries. */
export const EMBEDDED_MODULE = "the embedded filter";

/**
 * The source port the probes give the judge: a probe's own connection comes
 * from an ephemeral port the judge cannot know, so every probe names this one.
 */
export const JUDGED_SOURCE_PORT = 40000;

/** Hex SHA-256 of a module. */
export function moduleSha256(wasm: Uint8Array): string {
  return createHash("sha256").update(wasm).digest("hex");
}

/** What the judge runs: a proxy's module, root id and configuration. */
export interface JudgeOptions {
  /** The filter module's bytes. */
  wasm: Uint8Array;
  /** The root id the proxy names (default `wasmerang`). */
  rootId?: string;
  /** The plugin configuration the proxy gives the filter. */
  configuration: string;
}

/** The filter's decision for one connection. */
export interface Decision {
  /** The source address of the connection. */
  source: string;
  /** The cluster the filter set, or null when it left the connection alone. */
  cluster: string | null;
  /** Why the filter set no cluster (from its own log), when it says so. */
  reason?: string;
  /** What trapped, e.g. `unreachable in proxy_on_new_connection`. */
  trapped?: string;
  /** The filter's log lines for this connection, `[level] message`. */
  logs: string[];
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

async function loadVm(options: JudgeOptions): Promise<ProxyWasmVm> {
  const rootId = options.rootId ?? ROOT_ID;
  try {
    return await ProxyWasmVm.load(options.wasm, {
      rootId,
      configuration: options.configuration,
      // The filter writes its decision line at debug; route shows it (--verbose, --json).
      logLevel: "debug",
    });
  } catch (error) {
    if (error instanceof ConfigurationRejectedError) {
      throw new UserError(error.message);
    }
    if (error instanceof WasmTrapError) {
      throw new UserError(
        rootIdTrap(rootId, error, "no source could be judged"),
      );
    }
    throw error;
  }
}

/**
 * The one line for a filter that traps as it starts under `rootId`. The
 * proxy names the root id (proxy_on_context_create) and the module looks its
 * root context up by it: the host cannot learn which names a module
 * registers, so the line says how to give the right one. `consequence`
 * (e.g. "no source could be judged") is said of a trap that is not the
 * missing root context.
 *
 * `route`, the probes' judge and the check `up` and `scaffold` make before
 * they ship a module (lib/module_check.ts) all say this line.
 */
export function rootIdTrap(
  rootId: string,
  error: WasmTrapError,
  consequence?: string,
): string {
  const missing = /Missing root context factory for root id/.test(
    error.detail,
  );
  return missing
    ? `the filter registers no root context named "${rootId}" (${error.detail} in ${error.hook}): give the name its registerRootContext uses with --root-id NAME (a project's is its wasmerang.json "rootId"; --filter DIR takes it from there)`
    : `the filter trapped while starting under root id "${rootId}": ${error.detail} in ${error.hook} (${
      consequence === undefined ? "" : `${consequence}; `
    }if the filter registers another root id, give it with --root-id NAME)`;
}

/**
 * Starts the filter in the host as a proxy would and returns its decision for
 * each source to `destination`, in order. A connection that traps is reported
 * as trapped and, as in Envoy, the next sources run in a fresh VM. A filter
 * that refuses to start is a one-line UserError.
 */
export async function judgeAll(
  options: JudgeOptions,
  sources: readonly string[],
  destination: string | ((source: string) => string),
): Promise<Decision[]> {
  let vm = await loadVm(options);
  const decisions: Decision[] = [];
  try {
    for (const source of sources) {
      if (vm.failure !== undefined) {
        vm.close();
        vm = await loadVm(options);
      }
      const to = typeof destination === "string"
        ? destination
        : destination(source);
      decisions.push(decideIn(vm, source, to));
    }
  } finally {
    vm.close();
  }
  return decisions;
}

function decideIn(
  vm: ProxyWasmVm,
  source: string,
  destination: string,
): Decision {
  const logged = vm.logs.length;
  try {
    const connection = vm.openConnection({ source, destination });
    connection.finish();
    const cluster = connection.filterState.get(TCP_PROXY_CLUSTER_KEY) ?? null;
    const reason = cluster === null
      ? noOverrideReason(connection.logs)
      : undefined;
    return {
      source,
      cluster,
      ...(reason === undefined ? {} : { reason }),
      logs: connection.logs.map((entry) => `[${entry.level}] ${entry.message}`),
    };
  } catch (error) {
    if (!(error instanceof WasmTrapError)) throw error;
    return {
      source,
      cluster: null,
      trapped: `${error.detail} in ${error.hook}`,
      logs: vm.logs.slice(logged).map((entry) =>
        `[${entry.level}] ${entry.message}`
      ),
    };
  }
}

/** What a probe needs to judge: the running filter and tcp_proxy's default cluster. */
export interface ProbeJudge extends JudgeOptions {
  /** The cluster tcp_proxy sends a connection the filter leaves alone to. */
  defaultCluster: string;
  /** The module's path, or {@link EMBEDDED_MODULE}. */
  module: string;
}

/** The report's account of the judging filter. */
export function judgedFilter(judge: ProbeJudge): {
  module: string;
  sha256: string;
  rootId: string;
  configuration: string;
} {
  return {
    module: judge.module,
    sha256: moduleSha256(judge.wasm),
    rootId: judge.rootId ?? ROOT_ID,
    configuration: judge.configuration,
  };
}

/**
 * The filter's decision for each probe source (an IP, given
 * {@link JUDGED_SOURCE_PORT}) to `destination`, by source IP.
 */
export async function judgeSources(
  judge: JudgeOptions,
  sources: readonly string[],
  destination: string | ((source: string) => string),
): Promise<Map<string, Decision>> {
  const unique = [...new Set(sources)];
  const decisions = await judgeAll(
    judge,
    unique.map((source) => `${source}:${JUDGED_SOURCE_PORT}`),
    (source) => {
      const ip = source.slice(0, source.lastIndexOf(":"));
      return typeof destination === "string" ? destination : destination(ip);
    },
  );
  return new Map(unique.map((source, i) => [source, decisions[i]]));
}
