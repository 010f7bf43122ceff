/**
 * `wasmerang doctor [mode]`: which prerequisites are present, with versions
 * and install hints. Exits 1 when something the asked mode needs is missing.
 */
import { UserError } from "../lib/errors.ts";
import {
  checkTools,
  missingFrom,
  renderDoctor,
  type ToolName,
  TOOLS,
  type ToolStatus,
} from "../lib/prerequisites.ts";
import { ENVIRONMENTS, findEnvironment } from "../environments/mod.ts";

/** Options of `wasmerang doctor`. */
export interface DoctorOptions {
  json?: boolean;
}

/** The environments that need `tool`, in the registry's order. */
function neededBy(tool: ToolName): string[] {
  return ENVIRONMENTS.filter((environment) => environment.needs.includes(tool))
    .map((environment) => environment.name);
}

/** Prints the report; throws a {@link UserError} when `mode` lacks something. */
export async function doctor(
  modeText: string | undefined,
  options: DoctorOptions = {},
): Promise<void> {
  const environment = modeText === undefined
    ? undefined
    : findEnvironment(modeText);
  // With a mode, only what that mode needs is checked and listed.
  const statuses: ToolStatus[] = await checkTools(
    environment?.needs ?? TOOLS,
    neededBy,
  );
  if (options.json) {
    console.log(
      JSON.stringify(
        { mode: environment?.name ?? null, tools: statuses },
        null,
        2,
      ),
    );
  } else console.log(renderDoctor(statuses, environment));
  if (environment) {
    const missing = missingFrom(environment.needs, statuses);
    if (missing.length > 0) {
      throw new UserError(
        `${environment.name} mode needs ${
          environment.needs.join(", ")
        }; missing: ${missing.map((s) => s.name).join(", ")}`,
      );
    }
  }
}
