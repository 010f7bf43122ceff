/**
 * `wasmerang up docker`: prerequisites first, the example folder written if
 * needed (files already there are used as they are, after a check of
 * envoy.yaml), `docker compose up -d`, then a wait for Envoy's `/ready`.
 * `--dry-run` prints the exact plan and touches nothing.
 */
import * as path from "node:path";
import { createHash } from "node:crypto";
import { lastLines, Plan, runCommand, shellQuote } from "../../lib/commands.ts";
import {
  checkEnvoyBootstrap,
  renderIssues,
} from "../../checker/envoy_check.ts";
import { UserError } from "../../lib/errors.ts";
import { requirePrerequisites } from "../../lib/prerequisites.ts";
import { DOCKER_NEEDS } from "./needs.ts";
import { planScaffold, writeScaffold } from "../../lib/scaffold_files.ts";
import { hint } from "../../lib/ui.ts";
import {
  composeCommand,
  dockerErrorLine,
  type DockerExample,
  envoyReady,
  readDockerExample,
  READY_URL,
  refuseOtherFolder,
} from "./compose.ts";
import {
  ADMIN_PORT,
  COMPOSE_PROJECT,
  DEFAULT_DIR,
  LISTENER_PORT,
} from "./network.ts";
import {
  dockerClusterNames,
  dockerScaffoldFiles,
  shippableDockerFilter,
} from "./scaffold.ts";
import {
  configurationOf,
  FILES_SHA256_VARIABLE,
  WASM_FILE,
} from "./templates.ts";
import { quoteText } from "../../lib/routing.ts";
import {
  checkedRootId,
  describeFilter,
  type RunningFilter,
} from "../../lib/running_filter.ts";
import { refuseBothModules, withChosenModule } from "../../lib/filter_input.ts";
import { exists } from "../../lib/files.ts";

/** How long `up docker` waits for Envoy's /ready unless `--ready-timeout` says otherwise, in seconds. */
export const DEFAULT_READY_TIMEOUT_S = 90;

/** Options of `wasmerang up docker`. */
export interface DockerUpOptions {
  /** The example folder, default `envoy-docker`. */
  dir?: string;
  /** Print the plan (commands and files) and run or write nothing. */
  dryRun?: boolean;
  /** How long to wait for Envoy's /ready, in seconds (default {@link DEFAULT_READY_TIMEOUT_S}). */
  readyTimeout?: number;
  /** Replace the filter module in the folder with this file. */
  wasm?: string;
  /** Replace it with this filter project's module (built when stale), instead of `wasm`. */
  filter?: string;
  /**
   * The root id: `--root-id`, else the project's; an existing folder must
   * already name it (default: the folder's, else `wasmerang`).
   */
  rootId?: string;
  /** A dry run's stale project, compiled in memory (lib/filter_input.ts): the module to check and show. */
  compiled?: Uint8Array<ArrayBuffer>;
  /** Where `rootId` came from, for the refusal of one the folder does not name. */
  rootIdFrom?: string;
  /** The cluster names when `up` writes the folder (default `egress1`, `egress2`). */
  cluster?: readonly string[];
  /** The filter's configuration when `up` writes the folder (default: the flagship's for the clusters). */
  config?: string;
}

/** The folder's example, or undefined when it has none to read yet. */
async function existingExample(
  dir: string,
): Promise<DockerExample | undefined> {
  for (const file of ["docker-compose.yaml", "envoy.yaml"]) {
    try {
      await Deno.stat(path.join(dir, file));
    } catch {
      return undefined;
    }
  }
  return await readDockerExample(dir);
}

/**
 * The clusters and configuration `up` runs: the flags' when given (an
 * existing folder must already have them: `up` never rewrites its
 * envoy.yaml), else the folder's, else the parity example's.
 */
async function upSettings(
  dir: string,
  options: DockerUpOptions,
): Promise<
  {
    clusters: string[];
    configuration: string;
    rootId?: string;
    example?: DockerExample;
  }
> {
  const given = (options.cluster?.length ?? 0) > 0 ||
    options.config !== undefined;
  const example = await existingExample(dir);
  if (
    example !== undefined && options.rootId !== undefined &&
    options.rootId !== example.rootId
  ) {
    throw new UserError(
      `${path.join(dir, "envoy.yaml")} runs the filter under root id ${
        quoteText(example.rootId)
      }, not ${quoteText(options.rootId)} (${
        options.rootIdFrom ?? "--root-id"
      }): ` +
        `rewrite the folder with 'wasmerang scaffold docker --dir ${dir} --force' and the same flags, or give --root-id ${example.rootId}`,
      2,
    );
  }
  const rootId = options.rootId ?? example?.rootId;
  if (example === undefined || given) {
    const clusters = dockerClusterNames(
      (options.cluster?.length ?? 0) > 0 ? options.cluster : example?.clusters,
    );
    const configuration = options.config ??
      (example !== undefined && (options.cluster?.length ?? 0) === 0
        ? example.filterConfiguration
        : configurationOf({ clusters }));
    if (example !== undefined) {
      const differs = example.clusters.join(",") !== clusters.join(",")
        ? `clusters ${example.clusters.join(", ")}`
        : example.filterConfiguration !== configuration
        ? `the configuration ${quoteText(example.filterConfiguration)}`
        : undefined;
      if (differs !== undefined) {
        throw new UserError(
          `${
            path.join(dir, "envoy.yaml")
          } has ${differs}, not what --cluster/--config ask: ` +
            `rewrite the folder with 'wasmerang scaffold docker --dir ${dir} --force' and the same flags, or leave the flags out to run it as it is`,
          2,
        );
      }
    }
    return { clusters, configuration, rootId, example };
  }
  let clusters: string[];
  try {
    clusters = dockerClusterNames(example.clusters);
  } catch {
    // An edited envoy.yaml may name clusters no scaffold writes; they only
    // matter here for files to write again, and those stay the parity example's.
    clusters = dockerClusterNames(undefined);
  }
  return {
    clusters,
    configuration: example.filterConfiguration,
    rootId,
    example,
  };
}

/** Waits until `ready()` says yes, failing early when `stillRunning()` says Envoy died. */
export async function waitForReady(
  ready: () => Promise<boolean>,
  timeoutMs: number,
  stillRunning: () => Promise<boolean>,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    if (await ready()) return true;
    if (attempt % 4 === 3 && !(await stillRunning())) return false;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return false;
}

/** What the start step found Envoy doing, for the closing hint. */
let envoyState = "started";

/** sha256 of envoy.yaml and the module in `dir`: what Envoy reads when it starts. */
async function filesSha256(dir: string): Promise<string> {
  const hash = createHash("sha256");
  for (const file of ["envoy.yaml", WASM_FILE]) {
    hash.update(file);
    hash.update(await Deno.readFile(path.join(dir, file)));
  }
  return hash.digest("hex");
}

/**
 * When this folder's Envoy container started (Docker's StartedAt), or
 * undefined when it does not run: a different value after `up -d` means
 * Compose (re)started it.
 */
async function envoyStart(dir: string): Promise<string | undefined> {
  const id = await runCommand([...composeCommand(dir), "ps", "-q", "envoy"], {
    timeoutMs: 30_000,
  });
  const container = id.stdout.trim();
  if (id.code !== 0 || container === "") return undefined;
  const started = await runCommand([
    "docker",
    "inspect",
    "--format",
    "{{.State.Running}} {{.State.StartedAt}}",
    container,
  ], { timeoutMs: 30_000 });
  const [running, at] = started.stdout.trim().split(" ");
  return started.code === 0 && running === "true"
    ? `${container} ${at}`
    : undefined;
}

/** Fails with one line naming the port when something else listens on the example's ports. */
function requireFreePorts(): void {
  for (
    const [port, what] of [[LISTENER_PORT, "Envoy's listener"], [
      ADMIN_PORT,
      "Envoy's admin",
    ]] as const
  ) {
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
    } catch (error) {
      if (!(error instanceof Deno.errors.AddrInUse)) throw error;
      throw new UserError(
        `127.0.0.1:${port} (${what} in the Docker example) is already in use: stop what listens there and run 'wasmerang up docker' again`,
      );
    }
  }
}

/** Builds the plan of `up docker` for `dir`. */
export async function dockerUpPlan(options: DockerUpOptions): Promise<Plan> {
  return (await planWithFilter(options)).plan;
}

/** The plan of `up docker` and the filter it ships. */
async function planWithFilter(
  options: DockerUpOptions,
): Promise<{ plan: Plan; filter: RunningFilter }> {
  const dir = options.dir ?? DEFAULT_DIR;
  const compose = composeCommand(dir);
  const { clusters, configuration, rootId, example } = await upSettings(
    dir,
    options,
  );
  // The module Envoy will run: the one given, else the folder's own (used as
  // it is), else the embedded filter; checked under the root id envoy.yaml names.
  const folderModule = options.wasm === undefined && example !== undefined &&
      await exists(example.wasmFile)
    ? example.wasmFile
    : undefined;
  const filter = await shippableDockerFilter({
    ...(options.wasm ?? folderModule) === undefined
      ? {}
      : { wasm: options.wasm ?? folderModule },
    ...(rootId === undefined ? {} : { rootId }),
    ...(options.compiled === undefined ? {} : { compiled: options.compiled }),
  }, configuration);
  const wasm = filter.wasm;
  const files = dockerScaffoldFiles({
    wasm,
    clusters,
    configuration,
    rootId: filter.rootId,
  });
  const planned = await planScaffold(dir, files);
  const missing = planned.filter((file) => file.status === "created");
  const plan = new Plan();
  plan.task(
    "Check docker, docker compose and the Docker engine",
    "check that docker, docker compose and a running Docker engine are here (as 'wasmerang doctor docker' does)",
    () => requirePrerequisites(DOCKER_NEEDS),
  );
  if (missing.length > 0) {
    const toWrite = files.filter((file) =>
      missing.some((entry) => entry.path === file.path)
    );
    plan.task(
      `Write the example to ${dir}/`,
      [
        `write the example (what 'wasmerang scaffold docker --dir ${dir}' writes):`,
        ...missing.map((file) =>
          `  ${path.join(dir, file.path)} (${file.bytes} bytes)`
        ),
      ].join("\n"),
      async () =>
        void await writeScaffold(dir, toWrite, { command: "up docker" }),
    );
  }
  const kept = planned.filter((file) => file.status !== "created").map((file) =>
    file.path
  );
  if (options.wasm) {
    plan.task(
      `Put ${options.wasm} in ${dir}/`,
      `copy ${options.wasm} to ${path.join(dir, "wasmerang.wasm")}`,
      async () =>
        void await writeScaffold(dir, [{
          path: "wasmerang.wasm",
          content: wasm,
        }], {
          force: true,
        }),
    );
  }
  plan.task(
    `Check ${path.join(dir, "envoy.yaml")} against Envoy's API`,
    `check ${
      path.join(dir, "envoy.yaml")
    } against Envoy's API (as 'wasmerang check' does)` +
      (kept.length
        ? `; existing files are used as they are: ${kept.join(", ")}`
        : ""),
    async () => {
      const file = path.join(dir, "envoy.yaml");
      const issues = checkEnvoyBootstrap(await Deno.readTextFile(file));
      const errors = issues.filter((issue) => issue.severity === "error");
      if (errors.length > 0) {
        console.error(renderIssues(file, errors));
        throw new UserError(
          `${file} does not pass the Envoy API check; fix it or re-scaffold with --force`,
        );
      }
    },
  );
  plan.task(
    "Check that the ports are free and no other folder's example runs",
    `check that no Docker example from another folder runs (compose project ${COMPOSE_PROJECT}) ` +
      `and, unless this example runs already, that 127.0.0.1:${LISTENER_PORT} and 127.0.0.1:${ADMIN_PORT} are free`,
    async () => {
      await refuseOtherFolder(dir);
      if (await envoyStart(dir) === undefined) requireFreePorts();
    },
  );
  plan.task(
    `Start Envoy, ${clusters.join(", ")}`,
    `${FILES_SHA256_VARIABLE}=<sha256 of envoy.yaml and ${WASM_FILE}> ${
      shellQuote([...compose, "up", "-d"])
    }\n(Compose recreates Envoy only when those files differ from what it runs; on failure, what this step started is removed)`,
    async () => {
      const before = await envoyStart(dir);
      const result = await runCommand([...compose, "up", "-d"], {
        env: { [FILES_SHA256_VARIABLE]: await filesSha256(dir) },
        timeoutMs: 15 * 60_000,
      });
      if (result.code !== 0) {
        const why = dockerErrorLine(result.stderr) ??
          `docker compose up exited with ${result.code}`;
        if (before === undefined) {
          await runCommand([
            ...compose,
            "down",
            "--volumes",
            "--remove-orphans",
          ], { timeoutMs: 5 * 60_000 });
        }
        throw new UserError(
          `docker compose up failed: ${why}` +
            (before === undefined ? " (what it had started is removed)" : ""),
        );
      }
      const after = await envoyStart(dir);
      envoyState = before === undefined
        ? "started"
        : before === after
        ? "already running these files: left running"
        : "restarted: envoy.yaml or the module changed";
    },
  );
  const timeout = (options.readyTimeout ?? DEFAULT_READY_TIMEOUT_S) * 1000;
  plan.task(
    "Wait for Envoy to be ready",
    `wait until ${READY_URL} answers 200 (up to ${
      timeout / 1000
    } s; on failure show the last Envoy log lines)`,
    async () => {
      const running = async () => {
        const state = await runCommand([
          ...compose,
          "ps",
          "-a",
          "--format",
          "{{.State}}",
          "envoy",
        ], {
          timeoutMs: 10_000,
        }).catch(() => undefined);
        return !state || state.code !== 0 || !/exited|dead/.test(state.stdout);
      };
      if (await waitForReady(() => envoyReady(), timeout, running)) return;
      const logs = await runCommand([
        ...compose,
        "logs",
        "--no-color",
        "--tail",
        "15",
        "envoy",
      ], {
        timeoutMs: 10_000,
      }).catch(() => undefined);
      const tail = logs
        ? lastLines((logs.stdout + logs.stderr).trim(), 15)
        : "";
      throw new UserError(
        `Envoy did not become ready at ${READY_URL} within ${
          timeout / 1000
        } s` +
          (tail ? `; its last log lines:\n${tail}` : "") +
          `\n(see '${
            compose.join(" ")
          } logs envoy'; stop with 'wasmerang down docker')`,
      );
    },
  );
  return { plan, filter };
}

/** Runs (or with `dryRun` prints) `up docker`. */
export async function upDocker(given: DockerUpOptions): Promise<void> {
  refuseBothModules(given);
  if (given.rootId !== undefined) checkedRootId(given.rootId);
  const dir = given.dir ?? DEFAULT_DIR;
  // --filter: built here (compiled in memory for a dry run), then shipped as --wasm.
  const options = {
    ...await withChosenModule(given, { write: !given.dryRun }),
    ...(given.rootId === undefined && given.filter !== undefined
      ? { rootIdFrom: `the root id of --filter ${given.filter}` }
      : given.rootId === undefined
      ? { rootIdFrom: `the root id of the project whose output --wasm is` }
      : {}),
  };
  if (options.dryRun) {
    const { plan, filter } = await planWithFilter(options);
    const named = options.wasm !== undefined || options.rootId !== undefined
      ? `# ${describeFilter(filter, filter.configuration)}\n`
      : "";
    console.log(
      `# wasmerang up docker --dry-run: the plan; nothing is run or written\n${named}${plan.render()}`,
    );
    return;
  }
  await requirePrerequisites(DOCKER_NEEDS);
  const plan = await dockerUpPlan(options);
  plan.steps.shift(); // the prerequisites check just ran
  await plan.execute();
  const dirFlag = dir === DEFAULT_DIR ? "" : ` --dir ${dir}`;
  hint(
    `Envoy is ready (${envoyState}): listener 127.0.0.1:${LISTENER_PORT}, admin http://127.0.0.1:${ADMIN_PORT}/\n` +
      `Next: wasmerang probe docker${dirFlag}     (then: wasmerang down docker${dirFlag})\n` +
      `Logs: ${composeCommand(dir).join(" ")} logs -f envoy`,
  );
}
