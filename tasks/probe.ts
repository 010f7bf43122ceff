/**
 * `wasmerang probe [mode]`: connect from chosen source IPs and show who
 * answered. Every mode returns the same report: the same table, JSON and exit
 * codes (0 all expected, 1 some not, 2 nothing to probe). Dispatch only.
 */
import {
  type DockerProbeOptions,
  probeDocker,
} from "../environments/docker/probe.ts";
import { UserError } from "../lib/errors.ts";
import {
  type IstioProbeTaskOptions,
  probeIstioReport,
} from "../environments/istio/mode.ts";
import {
  probeExitCode,
  type ProbeReport,
  renderProbeReport,
} from "../lib/probe_report.ts";
import {
  type EnvoyProbeOptions,
  probeEnvoy,
} from "../environments/envoy/mode.ts";
import { parseMode } from "./modes.ts";
import {
  type LocalProbeCommandOptions,
  probeLocalCommand,
} from "../lib/loopback_probe.ts";

/** Options of `wasmerang probe`, the union of every mode's. */
export type ProbeOptions =
  & DockerProbeOptions
  & IstioProbeTaskOptions
  & LocalProbeCommandOptions
  & EnvoyProbeOptions
  & {
    json?: boolean;
  };

/** Runs `probe` for `modeText` (default local), prints the report, fails when a result did. */
export async function probe(
  modeText: string | undefined,
  options: ProbeOptions = {},
): Promise<void> {
  const mode = parseMode(modeText ?? "local");
  let report: ProbeReport;
  switch (mode) {
    case "local":
      report = await probeLocalCommand(options);
      break;
    case "docker":
      report = await probeDocker(options);
      break;
    case "istio":
      report = await probeIstioReport(options);
      break;
    case "envoy":
      report = await probeEnvoy(options);
      break;
  }
  console.log(
    options.json ? JSON.stringify(report, null, 2) : renderProbeReport(report),
  );
  if (probeExitCode(report) !== 0) {
    throw new UserError(
      `probe failed: ${report.failed} of ${report.results.length} did not reach the expected egress`,
    );
  }
}
