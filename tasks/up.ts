/** `wasmerang up <mode>`: launch a working example around the filter. */
import { findEnvironment, type UpOptions } from "../environments/mod.ts";
import { UsageError } from "../lib/errors.ts";
import { isDetachedChild, refuseOtherFlags } from "../lib/detach.ts";
import { stateDirMarker } from "../lib/state.ts";
import { LOCAL_UP_OPTIONS } from "../environments/local/up.ts";
import { ENVOY_UP_OPTIONS } from "../environments/envoy/up.ts";

export type { UpOptions };

/** What `up` takes on the command line: the modes' options, and the background process's marker. */
export type UpCommandOptions = UpOptions & {
  /** Only in the background process `--detach` starts: the absolute state directory. */
  detachedIn?: string;
};

/** The options each mode takes, for the modes that refuse the others. */
const TAKES: Record<string, readonly string[]> = {
  local: LOCAL_UP_OPTIONS,
  envoy: ENVOY_UP_OPTIONS,
};

/** Runs the `up` of the environment named `modeText`. */
export async function up(
  modeText: string,
  options: UpCommandOptions = {},
): Promise<void> {
  const environment = findEnvironment(modeText);
  const { detachedIn, ...rest } = options;
  if (
    detachedIn !== undefined &&
    (!isDetachedChild() || !(environment.name in TAKES) ||
      detachedIn !== stateDirMarker())
  ) {
    throw new UsageError(
      "--detached-in: only the background process of 'up local|envoy --detach' takes it",
    );
  }
  const takes = TAKES[environment.name];
  if (takes !== undefined) {
    refuseOtherFlags("up", environment.name, rest, takes);
  }
  await environment.up(rest);
}
