/**
 * `wasmerang probe local`: the loopback probe against the local example
 * (the running one's address and configuration, unless the options say).
 *
 * @module
 */
import { UserError } from "../../lib/errors.ts";
import type { ProbeReport } from "../../lib/probe_report.ts";
import {
  formatHostPort,
  isLoopback,
  parseHostPort,
} from "../../lib/address.ts";
import { LOCAL_DEFAULTS } from "../../dataplane/plane.ts";
import { filterToJudge, type JudgeFlags } from "../../lib/running_filter.ts";
import { refuseBothModules } from "../../lib/filter_input.ts";
import {
  parseCount,
  parseSources,
  probeLocal,
} from "../../lib/loopback_probe.ts";
import {
  isRunning,
  type LocalState,
  readStateFile,
  stateFile,
} from "../../lib/state.ts";

/**
 * Options of `wasmerang probe local`. The filter to judge by (`wasm` or
 * `filter`, `rootId`, `config`, `defaultCluster`): default the detached example's,
 * else the embedded filter with `standalone`.
 */
export interface LocalProbeCommandOptions extends JudgeFlags {
  from?: string;
  /** Target `HOST:PORT`; default: the detached example's address, else 127.0.0.1:10000. */
  to?: string;
  count?: string | number;
}

/**
 * The recorded state of `mode`; a state file that cannot be read is a
 * one-line error unless `--to` says where to probe.
 */
export function recordedState(
  mode: "local" | "envoy",
  to: string | undefined,
): LocalState | undefined {
  const reading = readStateFile(mode);
  if (reading.problem === "unreadable" && to === undefined) {
    throw new UserError(
      `${
        stateFile(mode)
      } is unreadable (${reading.reason}): give the address with --to, or stop the example with 'wasmerang down ${mode}'`,
      2,
    );
  }
  return reading.state;
}

/**
 * The one-line refusal when the recorded example is not running (its
 * process is gone, or it stopped by itself): the probe would find nothing
 * there, or another program that took the port.
 */
export function notRunning(
  mode: "local" | "envoy",
  state: LocalState,
  what: string,
): UserError {
  const why = state.stopped !== undefined
    ? `stopped (${state.stopped})`
    : `is gone (its pid ${state.pid} no longer runs it)`;
  return new UserError(
    `${what} is not running: the ${mode} example on ${state.listen} ${why}; its log: ${state.logFile}; ` +
      `'wasmerang down ${mode}' clears its state, 'wasmerang up ${mode} --detach' starts it again`,
    2,
  );
}

/** Resolves the command's options (and the state file) and probes. */
export async function probeLocalExample(
  options: LocalProbeCommandOptions,
): Promise<ProbeReport> {
  refuseBothModules(options);
  const state = recordedState("local", options.to);
  if (
    state !== undefined && options.to === undefined &&
    (state.stopped !== undefined ||
      !isRunning(state.pid, "local", state.startTime))
  ) throw notRunning("local", state, "the local example");
  const sources = parseSources(options.from);
  const target = parseHostPort(
    options.to ?? state?.listen ?? LOCAL_DEFAULTS.listen,
    "--to",
  );
  // 0.0.0.0 is what a proxy listening on every address records; it is reached locally.
  const local = target.host === "0.0.0.0" ||
    (isLoopback(target.host) && target.host !== "::1");
  if (!local) {
    throw new UserError(
      `--to ${
        formatHostPort(target.host, target.port)
      } is not on IPv4 loopback: ` +
        "the local probe connects from 127.0.0.0/8 sources, so it reaches a proxy on 127.x.y.z only " +
        "(probe docker or probe istio reach the other examples)",
      2,
    );
  }
  const count = parseCount(options.count);
  const judge = await filterToJudge(options, state, LOCAL_DEFAULTS.config);
  return await probeLocal({ target, sources, count, judge });
}
