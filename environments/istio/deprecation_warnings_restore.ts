/** Imported last by `models.ts`: restores Node's deprecation warnings (see `deprecation_warnings_off.ts`). */
import nodeProcess from "node:process";

const process = nodeProcess as { noDeprecation?: boolean };
const state = globalThis as { __wasmerangNoDeprecation?: boolean };
process.noDeprecation = state.__wasmerangNoDeprecation ?? false;
delete state.__wasmerangNoDeprecation;
