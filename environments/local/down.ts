/**
 * `wasmerang down local`: stop a detached local example and remove its state.
 *
 * @module
 */
import { stopDetached } from "../../lib/detach.ts";

/** Stops the detached example, if one runs; says what it did either way. */
export async function downLocal(): Promise<void> {
  await stopDetached("local");
}
