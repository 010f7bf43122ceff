/** `wasmerang scaffold <mode>`: write the example files `up` launches. */
import { findEnvironment, type ScaffoldOptions } from "../environments/mod.ts";

export type { ScaffoldOptions };

/** Runs the `scaffold` of the environment named `modeText` (one that has files). */
export async function scaffold(
  modeText: string,
  options: ScaffoldOptions = {},
): Promise<void> {
  const environment = findEnvironment(
    modeText,
    (environment) => environment.scaffold !== undefined,
  );
  await environment.scaffold!(options);
}
