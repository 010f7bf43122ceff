/**
 * `wasmerang probe [mode]`: connect from chosen source IPs and show who
 * answered. Every mode returns the same report: the same table, JSON and exit
 * codes (0 all expected, 1 some not, 2 nothing to probe).
 */
import { UserError } from "../lib/errors.ts";
import {
  findEnvironment,
  type ProbeOptions as EnvironmentProbeOptions,
} from "../environments/mod.ts";
import { probeExitCode, renderProbeReport } from "../lib/probe_report.ts";

/** Options of `wasmerang probe`, the union of every mode's. */
export type ProbeOptions = EnvironmentProbeOptions & {
  json?: boolean;
};

/** Runs `probe` for `modeText` (default local), prints the report, fails when a result did. */
export async function probe(
  modeText: string | undefined,
  options: ProbeOptions = {},
): Promise<void> {
  const report = await findEnvironment(modeText ?? "local").probe(options);
  console.log(
    options.json ? JSON.stringify(report, null, 2) : renderProbeReport(report),
  );
  if (probeExitCode(report) !== 0) {
    throw new UserError(
      `probe failed: ${report.failed} of ${report.results.length} did not reach the expected egress`,
    );
  }
}
