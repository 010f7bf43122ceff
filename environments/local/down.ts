/**
 * `wasmerang down local`: stop this state directory's detached local
 * example (only that process) and remove its state and log.
 *
 * @module
 */
import { stopDetached } from "../../lib/detach.ts";

/** Options of `wasmerang down local`. */
export interface LocalDownOptions {
  /** Print what would be stopped and removed; do nothing. */
  dryRun?: boolean;
}

/** Stops the detached example, if one runs, and removes what it made; says what it did either way. */
export async function downLocal(options: unknown = {}): Promise<void> {
  const { dryRun } = (options ?? {}) as LocalDownOptions;
  await stopDetached("local", { dryRun });
}
