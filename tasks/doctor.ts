/**
 * `wasmerang doctor [mode]`: which prerequisites are present, with versions
 * and install hints. Exits 1 when something the asked mode needs is missing.
 */
import { UserError } from "../lib/errors.ts";
import {
  checkTools,
  missingFor,
  renderDoctor,
  type ToolMode,
  TOOLS,
  type ToolStatus,
} from "../lib/prerequisites.ts";
import { findEnvironment } from "../environments/mod.ts";

/** Options of `wasmerang doctor`. */
export interface DoctorOptions {
  json?: boolean;
}

/** Prints the report; throws a {@link UserError} when `mode` lacks something. */
export async function doctor(
  modeText: string | undefined,
  options: DoctorOptions = {},
): Promise<void> {
  const environment = modeText === undefined
    ? undefined
    : findEnvironment(modeText);
  const mode = environment?.name as ToolMode | undefined;
  // With a mode, only what that mode needs is checked and listed.
  const statuses: ToolStatus[] = await checkTools(
    environment?.needs ?? TOOLS,
  );
  if (options.json) {
    console.log(
      JSON.stringify({ mode: mode ?? null, tools: statuses }, null, 2),
    );
  } else console.log(renderDoctor(statuses, mode));
  if (mode && environment) {
    const missing = missingFor(mode, statuses);
    if (missing.length > 0) {
      throw new UserError(
        `${mode} mode needs ${environment.needs.join(", ")}; missing: ${
          missing.map((s) => s.name).join(", ")
        }`,
      );
    }
  }
}
