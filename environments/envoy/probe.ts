/**
 * `wasmerang probe envoy`: the probe of `probe local`, plus the filter's
 * counters from Envoy's admin.
 *
 * @module
 */
import { filterToJudge, type JudgeFlags } from "../../lib/running_filter.ts";
import { refuseBothModules } from "../../lib/filter_input.ts";
import type { ProbeReport } from "../../lib/probe_report.ts";
import { formatHostPort, parseHostPort } from "../../lib/address.ts";
import {
  parseCount,
  parseSources,
  probeLocal,
} from "../../lib/loopback_probe.ts";
import { isAlive, isRunning } from "../../lib/state.ts";
import { notRunning, recordedState } from "../local/probe.ts";
import { ENVOY_DEFAULTS } from "./plane.ts";
import { filterCounters } from "../../lib/envoy/admin.ts";
/**
 * Options of `wasmerang probe envoy`. The filter to judge by (`wasm` or
 * `filter`, `rootId`, `config`, `defaultCluster`): default the running example's.
 */
export interface EnvoyProbeOptions extends JudgeFlags {
  /** Comma-separated loopback sources (default 127.0.0.10-17). */
  from?: string;
  /** Envoy's listener (default: the running example's). */
  to?: string;
  /** Connections per source (default `DEFAULT_COUNT` of lib/loopback_probe.ts). */
  count?: string | number;
  /** Envoy's admin, for the counters (default: the running example's). */
  admin?: string;
}

/** Probes Envoy's listener like `probe local`, adding the filter's counters from admin. */
export async function probeEnvoy(
  options: EnvoyProbeOptions = {},
): Promise<ProbeReport> {
  refuseBothModules(options);
  const state = recordedState("envoy", options.to);
  // Envoy is what answers: with the background process gone but its Envoy
  // still there (no parent-death signal), the probe still reaches it.
  const envoyAlive = state?.envoyPid !== undefined &&
    state.envoyStartTime !== undefined &&
    isAlive(state.envoyPid, state.envoyStartTime);
  if (
    state !== undefined && options.to === undefined &&
    (state.stopped !== undefined ||
      (!isRunning(state.pid, "envoy", state.startTime) && !envoyAlive))
  ) throw notRunning("envoy", state, "Envoy");
  const sources = parseSources(options.from);
  const target = parseHostPort(
    options.to ?? state?.listen ?? ENVOY_DEFAULTS.listen,
    "--to",
  );
  const admin = parseHostPort(
    options.admin ?? state?.admin ?? ENVOY_DEFAULTS.admin,
    "--admin",
  );
  const count = parseCount(options.count);
  const judge = await filterToJudge(options, state, ENVOY_DEFAULTS.config);
  const report = await probeLocal({
    target,
    sources,
    count,
    judge,
    startHint: "Envoy with 'wasmerang up envoy --detach'",
  });
  // The routing result stands without the counters: say why they are missing.
  const adminAddress = formatHostPort(admin.host, admin.port);
  try {
    report.counters = await filterCounters(adminAddress);
  } catch {
    report.countersUnavailable =
      `Envoy's admin does not answer at http://${adminAddress}/stats: give its address with --admin`;
  }
  return report;
}
