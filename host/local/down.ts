/**
 * `wasmerang down local`: stop a detached local example and remove its state.
 *
 * @module
 */
import { isRunning, readState, removeState, stateFile } from "./state.ts";

/** Stops the detached example, if one runs; says what it did either way. */
export async function downLocal(): Promise<void> {
  const state = readState();
  if (state === undefined) {
    console.log(
      `nothing to stop: no local example is running (no ${stateFile()})`,
    );
    return;
  }
  if (!isRunning(state.pid)) {
    removeState();
    console.log(
      `the local example (pid ${state.pid}) was not running; removed its state`,
    );
    return;
  }
  Deno.kill(state.pid, "SIGTERM");
  const deadline = Date.now() + 10_000;
  while (isRunning(state.pid) && Date.now() < deadline) {
    await new Promise((done) => setTimeout(done, 50));
  }
  if (isRunning(state.pid)) Deno.kill(state.pid, "SIGKILL");
  removeState();
  console.log(`stopped the local example (pid ${state.pid}, ${state.listen})`);
}
