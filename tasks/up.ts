/** `wasmerang up <mode>`: launch a working example around the filter. */
import { findEnvironment, type UpOptions } from "../environments/mod.ts";
import { UsageError } from "../lib/errors.ts";
import { isDetachedChild } from "../lib/detach.ts";
import { stateDirMarker } from "../lib/state.ts";

export type { UpOptions };

/**
 * What `up <mode>` takes on the command line: the mode's options (cli.ts
 * takes only the flags the mode declares), and the background process's marker.
 */
export type UpCommandOptions = UpOptions & {
  /** Only in the background process `--detach` starts: the absolute state directory. */
  detachedIn?: string;
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
    (!isDetachedChild() || detachedIn !== stateDirMarker())
  ) {
    throw new UsageError(
      "--detached-in: only the background process of 'up local|envoy --detach' takes it",
    );
  }
  await environment.up(rest);
}
