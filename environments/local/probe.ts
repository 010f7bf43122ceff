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
import { LOCAL_DEFAULTS, localConfig } from "../../dataplane/plane.ts";
import {
  parseCount,
  parseSources,
  probeLocal,
} from "../../lib/loopback_probe.ts";
import { readState } from "../../lib/state.ts";

/** Options of `wasmerang probe local`. */
export interface LocalProbeCommandOptions {
  from?: string;
  /** Target `HOST:PORT`; default: the detached example's address, else 127.0.0.1:10000. */
  to?: string;
  count?: string | number;
  /** Configuration to expect; default: the detached example's, else standalone. */
  config?: string;
}

/** Resolves the command's options (and the state file) and probes. */
export async function probeLocalExample(
  options: LocalProbeCommandOptions,
): Promise<ProbeReport> {
  const state = readState();
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
  const config = localConfig(
    options.config ?? state?.config ?? LOCAL_DEFAULTS.config,
  );
  return await probeLocal({ target, sources, count, config });
}
