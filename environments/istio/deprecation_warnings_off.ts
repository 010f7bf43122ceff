/**
 * Imported first by `models.ts`: silences Node's deprecation warnings while the
 * Kubernetes model packages load (a dependency of their validator requires the
 * deprecated `punycode` built-in, which would print DEP0040 on every command).
 * `deprecation_warnings_restore.ts` restores the previous setting right after.
 */
import nodeProcess from "node:process";

const process = nodeProcess as { noDeprecation?: boolean };
const state = globalThis as { __wasmerangNoDeprecation?: boolean };
state.__wasmerangNoDeprecation = process.noDeprecation;
process.noDeprecation = true;
