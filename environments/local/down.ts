/**
 * `wasmerang down local`: stop a detached local example and remove its state.
 *
 * @module
 */
import {
  type DetachedMode,
  isRunning,
  type LocalState,
  readState,
  removeState,
  stateFile,
} from "../../lib/state.ts";

/** Stops the detached example, if one runs; says what it did either way. */
export async function downLocal(): Promise<void> {
  await downDetached("local");
}

/**
 * Stops the detached example of `mode` (SIGTERM, then SIGKILL after 10 s),
 * calls `after` with its state so the mode can make sure of its own
 * processes, and removes the state. Idempotent.
 */
export async function downDetached(
  mode: DetachedMode,
  after?: (state: LocalState) => Promise<void>,
): Promise<void> {
  const state = readState(mode);
  if (state === undefined) {
    console.log(
      `nothing to stop: no ${mode} example is running (no ${stateFile(mode)})`,
    );
    return;
  }
  const running = isRunning(state.pid, mode);
  if (running) {
    Deno.kill(state.pid, "SIGTERM");
    const deadline = Date.now() + 10_000;
    while (isRunning(state.pid, mode) && Date.now() < deadline) {
      await new Promise((done) => setTimeout(done, 50));
    }
    if (isRunning(state.pid, mode)) Deno.kill(state.pid, "SIGKILL");
  }
  await after?.(state);
  removeState(undefined, mode);
  console.log(
    running
      ? `stopped the ${mode} example (pid ${state.pid}, ${state.listen})`
      : `the ${mode} example (pid ${state.pid}) was not running; removed its state`,
  );
}
