/**
 * `wasmerang down docker`: removes what `up docker` and `probe docker`
 * started (containers, the network, volumes, leftover probe containers). The
 * example folder stays: it is the user's to read and edit.
 */
import { Plan, runChecked } from "../../lib/commands.ts";
import { UserError } from "../../lib/errors.ts";
import { requirePrerequisites } from "../../lib/prerequisites.ts";
import { DOCKER_NEEDS } from "./needs.ts";
import { hint } from "../../lib/ui.ts";
import {
  composeCommand,
  projectContainers,
  refuseOtherFolder,
} from "./compose.ts";
import {
  COMPOSE_PROJECT,
  DEFAULT_DIR,
  NETWORK_NAME,
  PROBE_LABEL,
} from "./network.ts";

/** Options of `wasmerang down docker`. */
export interface DockerDownOptions {
  /** The example folder, default `envoy-docker`. */
  dir?: string;
  /** Print the plan and run nothing. */
  dryRun?: boolean;
}

/** What of the example exists now: container names, the network, probe containers. */
async function present(): Promise<
  { containers: string[]; network: boolean; probes: string[] }
> {
  const lines = async (argv: string[]) =>
    (await runChecked(argv, { timeoutMs: 30_000 })).split("\n")
      .map((line) => line.trim()).filter((line) => line !== "");
  const containers = await projectContainers("{{.Names}}");
  const networks = await lines([
    "docker",
    "network",
    "ls",
    "--filter",
    `name=^${NETWORK_NAME}$`,
    "--format",
    "{{.Name}}",
  ]);
  const probes = await lines([
    "docker",
    "ps",
    "-aq",
    "--filter",
    `label=${PROBE_LABEL}`,
  ]);
  return {
    containers: containers.sort(),
    network: networks.includes(NETWORK_NAME),
    probes,
  };
}

/** The plan of `down docker`. */
export function dockerDownPlan(dir: string): Plan {
  return new Plan()
    .task(
      "Check that the running example is this folder's",
      `check that no Docker example from another folder runs (compose project ${COMPOSE_PROJECT})`,
      () => refuseOtherFolder(dir),
    )
    .task(
      "Remove leftover probe containers",
      `remove probe containers left behind, if any: docker ps -aq --filter label=${PROBE_LABEL} | xargs -r docker rm -f`,
      async () => {
        const { probes } = await present();
        if (probes.length > 0) {
          await runChecked(["docker", "rm", "-f", ...probes], {
            timeoutMs: 60_000,
          });
        }
      },
    )
    .run(
      "Stop and remove Envoy, the egress services and their network",
      [...composeCommand(dir), "down", "--volumes", "--remove-orphans"],
      { timeoutMs: 5 * 60_000 },
    );
}

/** Runs (or with `dryRun` prints) `down docker`. */
export async function downDocker(options: DockerDownOptions): Promise<void> {
  const dir = options.dir ?? DEFAULT_DIR;
  const plan = dockerDownPlan(dir);
  if (options.dryRun) {
    console.log(
      `# wasmerang down docker --dry-run: the plan; nothing is run\n${plan.render()}`,
    );
    return;
  }
  try {
    await Deno.stat(`${dir}/docker-compose.yaml`);
  } catch {
    throw new UserError(
      `no Docker example in ${dir}/ (nothing to stop; pass --dir if it lives elsewhere)`,
      2,
    );
  }
  await requirePrerequisites(DOCKER_NEEDS);
  const before = await present();
  await plan.execute();
  const after = await present();
  const removed = [
    ...before.containers.filter((name) => !after.containers.includes(name))
      .map((name) => `container ${name}`),
    ...(before.network && !after.network ? [`network ${NETWORK_NAME}`] : []),
    ...(before.probes.length > after.probes.length
      ? [`${before.probes.length - after.probes.length} probe container(s)`]
      : []),
  ];
  hint(
    removed.length > 0
      ? `Removed ${removed.join(", ")}; the files in ${dir}/ stay.`
      : `Nothing of the Docker example was running: nothing removed; the files in ${dir}/ stay.`,
  );
}
