/**
 * `wasmerang down envoy`: stop the detached example and any Envoy left on our
 * bootstrap.
 *
 * @module
 */
import { join } from "node:path";
import { stopDetached, stopProcess } from "../../lib/detach.ts";
import { BOOTSTRAP_FILE, envoyDir } from "./plane.ts";

/**
 * Envoy processes started on this state directory's bootstrap (Linux): the
 * detached example's, or one left behind by a foreground `up envoy` that was
 * killed outright.
 */
function envoysOnOurBootstrap(): number[] {
  const bootstrap = join(envoyDir(), BOOTSTRAP_FILE);
  const pids: number[] = [];
  try {
    for (const entry of Deno.readDirSync("/proc")) {
      if (!/^\d+$/.test(entry.name)) continue;
      try {
        const argv = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`)
          .split("\0");
        if (argv.includes(bootstrap)) pids.push(Number(entry.name));
      } catch {
        // Gone meanwhile.
      }
    }
  } catch {
    // No /proc: nothing to find.
  }
  return pids;
}

async function stopEnvoy(pid: number): Promise<void> {
  await stopProcess(pid, () => envoysOnOurBootstrap().includes(pid), 5000);
}

/** Stops the detached example and makes sure no Envoy of ours is left. Idempotent. */
export async function downEnvoy(): Promise<void> {
  await stopDetached("envoy", async (state) => {
    if (
      state.envoyPid !== undefined &&
      envoysOnOurBootstrap().includes(state.envoyPid)
    ) await stopEnvoy(state.envoyPid);
  });
  for (const pid of envoysOnOurBootstrap()) {
    await stopEnvoy(pid);
    console.log(
      `stopped an Envoy left running on ${
        join(envoyDir(), BOOTSTRAP_FILE)
      } (pid ${pid})`,
    );
  }
}
