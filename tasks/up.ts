/** `wasmerang up <mode>`: launch a working example around the filter. */
import { findEnvironment, type UpOptions } from "../environments/mod.ts";

export type { UpOptions };

/** Runs the `up` of the environment named `modeText`. */
export async function up(
  modeText: string,
  options: UpOptions = {},
): Promise<void> {
  await findEnvironment(modeText).up(options);
}
