/**
 * `wasmerang down <mode>`: tear an example down, leaving nothing behind.
 * cli.ts takes only the flags the mode declares.
 */
import { type DownOptions, findEnvironment } from "../environments/mod.ts";

export type { DownOptions };

/** Runs the `down` of the environment named `modeText`. */
export async function down(
  modeText: string,
  options: DownOptions = {},
): Promise<void> {
  await findEnvironment(modeText).down(options);
}
