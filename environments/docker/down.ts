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
import { composeCommand } from "./compose.ts";
import { DEFAULT_DIR, NETWORK_NAME, PROBE_LABEL } from "./network.ts";

/** Options of `wasmerang down docker`. */
export interface DockerDownOptions {
  /** The example folder, default `envoy-docker`. */
  dir?: string;
  /** Print the plan and run nothing. */
  dryRun?: boolean;
}

/** The plan of `down docker`. */
export function dockerDownPlan(dir: string): Plan {
  return new Plan()
    .task(
      "Remove leftover probe containers",
      `remove probe containers left behind, if any: docker ps -aq --filter label=${PROBE_LABEL} | xargs -r docker rm -f`,
      async () => {
        const ids = (await runChecked([
          "docker",
          "ps",
          "-aq",
          "--filter",
          `label=${PROBE_LABEL}`,
        ], {
          timeoutMs: 30_000,
        })).split("\n").filter((id) => id.trim() !== "");
        if (ids.length > 0) {
          await runChecked(["docker", "rm", "-f", ...ids], {
            timeoutMs: 60_000,
          });
        }
      },
    )
    .run(
      "Stop and remove Envoy, egress1, egress2 and their network",
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
  await plan.execute();
  hint(
    `Removed the containers and the network ${NETWORK_NAME}; the files in ${dir}/ stay.`,
  );
}
