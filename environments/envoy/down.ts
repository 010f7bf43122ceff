/**
 * `wasmerang down envoy`: stop this state directory's detached example, any
 * Envoy left running on its bootstrap, and remove what `up envoy` made (the
 * state, the log, the bootstrap folder).
 *
 * An Envoy is ours only when provably so: the Envoy the state file records
 * (same pid and start time), a child of our verified background process, or
 * a process whose executable (`/proc/<pid>/exe`) is the Envoy binary and
 * whose arguments hold `-c <this bootstrap>` as a pair. An editor or
 * `tail -f` on the bootstrap is never one.
 *
 * @module
 */
import { join } from "node:path";
import { type Companion, stopDetached } from "../../lib/detach.ts";
import { findEnvoy } from "../../lib/envoy/binary.ts";
import {
  allPids,
  hasPair,
  isAlive,
  type LocalState,
  parentPid,
  processArgv,
  processExecutable,
  processStartTime,
  readState,
  realPath,
} from "../../lib/state.ts";
import { BOOTSTRAP_FILE, envoyDir } from "./plane.ts";

/** Options of `wasmerang down envoy`. */
export interface EnvoyDownOptions {
  /** Print what would be stopped and removed; do nothing. */
  dryRun?: boolean;
}

/** The bootstrap `up envoy` writes on this state directory. */
function bootstrapPath(): string {
  return join(envoyDir(), BOOTSTRAP_FILE);
}

/** Whether `argv` starts Envoy on `bootstrap` (`-c` or `--config-path` followed by it). */
export function runsOnBootstrap(argv: string[], bootstrap: string): boolean {
  return hasPair(argv, "-c", bootstrap) ||
    hasPair(argv, "--config-path", bootstrap) ||
    argv.includes(`--config-path=${bootstrap}`);
}

/** The Envoy binaries a process of ours may run: the recorded one and the one `up envoy` would find. */
async function envoyBinaries(
  state: LocalState | undefined,
): Promise<Set<string>> {
  const binaries = new Set<string>();
  if (state?.envoyPath !== undefined) binaries.add(realPath(state.envoyPath));
  try {
    binaries.add(realPath((await findEnvoy()).path));
  } catch {
    // No Envoy to be found: only the recorded one counts.
  }
  return binaries;
}

/**
 * The Envoy processes of this state directory (Linux): the recorded one,
 * children of our background process on the bootstrap, and any process of
 * the Envoy binary started with `-c` on the bootstrap.
 */
function ourEnvoys(
  state: LocalState | undefined,
  supervisors: number[],
  binaries: Set<string>,
): Companion[] {
  const bootstrap = bootstrapPath();
  const found = new Map<number, Companion>();
  const add = (pid: number, what: string) => {
    const startTime = processStartTime(pid);
    if (startTime === undefined || found.has(pid)) return;
    found.set(pid, {
      pid,
      what,
      alive: () => isAlive(pid, startTime),
    });
  };
  for (const pid of allPids()) {
    const argv = processArgv(pid);
    if (argv === undefined || !runsOnBootstrap(argv, bootstrap)) continue;
    const exe = processExecutable(pid);
    const recorded = pid === state?.envoyPid &&
      processStartTime(pid) === state.envoyStartTime;
    const child = supervisors.includes(parentPid(pid) ?? -1);
    if (recorded || child) {
      add(pid, `the example's Envoy`);
    } else if (exe !== undefined && binaries.has(exe)) {
      add(pid, `an Envoy left running on ${bootstrap}`);
    }
  }
  return [...found.values()];
}

/** Stops the detached example and makes sure no Envoy of ours is left; removes what `up envoy` made. Idempotent. */
export async function downEnvoy(options: unknown = {}): Promise<void> {
  const { dryRun } = (options ?? {}) as EnvoyDownOptions;
  const state = readState("envoy");
  const binaries = await envoyBinaries(state);
  await stopDetached("envoy", {
    dryRun,
    companions: (recorded, supervisors) =>
      ourEnvoys(recorded, supervisors, binaries),
    paths: [envoyDir()],
  });
}
