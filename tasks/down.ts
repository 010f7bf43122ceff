/** `wasmerang down <mode>`: tear an example down, leaving nothing behind. */
import { type DownOptions, findEnvironment } from "../environments/mod.ts";
import { refuseOtherFlags } from "../lib/detach.ts";

export type { DownOptions };

/** The options each mode takes, for the modes that refuse the others. */
const TAKES: Record<string, readonly string[]> = {
  local: ["dryRun"],
  envoy: ["dryRun"],
};

/** Runs the `down` of the environment named `modeText`. */
export async function down(
  modeText: string,
  options: DownOptions = {},
): Promise<void> {
  const environment = findEnvironment(modeText);
  const takes = TAKES[environment.name];
  if (takes !== undefined) {
    refuseOtherFlags("down", environment.name, { ...options }, takes);
  }
  await environment.down(options);
}
