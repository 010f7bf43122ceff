/**
 * The Istio mode's commands, called by the `tasks/` dispatchers:
 * `scaffold istio`, `up istio`, `probe istio`, `down istio`.
 */
import { join } from "node:path";
import { parse } from "yaml";
import { UserError } from "../../lib/errors.ts";
import { loadShippableFilter } from "../../lib/module_check.ts";
import {
  checkTools,
  missingFor,
  MODE_NEEDS,
  requirePrerequisites,
  type ToolName,
} from "../../lib/prerequisites.ts";
import type { ProbeReport } from "../../lib/probe_report.ts";
import { renderWritten, writeScaffold } from "../../lib/scaffold_files.ts";
import { hint } from "../../lib/ui.ts";
import { renderIstioFiles } from "./files.ts";
import {
  CONFIGMAP_FILE,
  ENVOY_FILTER_FILE,
  HTTP_OVERRIDE_FILE,
  KIND_CONFIG_FILE,
  OPTIONAL_FILES,
  WASM_PLUGIN_FILE,
} from "./layout.ts";
import {
  checkSettings,
  DEFAULT_SETTINGS,
  filterConfiguration,
  HTTP_PORT,
  type IstioApi,
  type IstioSettings,
} from "./manifests.ts";
import {
  downPlan,
  executePlan,
  FRESH_CLUSTER,
  manifestFiles,
  observeCluster,
  renderPlan,
  upPlan,
} from "./plan.ts";
import { probeIstio } from "./probe.ts";
import {
  renderManifestIssues,
  validateIstioFiles,
  validateYamlFile,
} from "./validate.ts";

/** Where `scaffold istio` writes and `up istio` reads, unless `--dir` says otherwise. */
export const DEFAULT_ISTIO_DIR = "istio-k8s";

/** Options of `scaffold istio`. */
export interface IstioScaffoldOptions {
  /** Where to write (default `istio-k8s`). */
  dir?: string;
  /** How the filter is installed: `wasmplugin` (default) or `envoyfilter`. */
  api?: string;
  /** Namespace of every object (default `default`). */
  namespace?: string;
  /** The kind cluster's name (default `wasmerang`). */
  clusterName?: string;
  /** Also write the port-80 HTTP-to-TCP override. */
  httpOverride?: boolean;
  /** Replace files that differ. */
  force?: boolean;
  /** A module to ship instead of the embedded filter. */
  wasm?: string;
}

function settingsFrom(
  options: {
    api?: string;
    namespace?: string;
    clusterName?: string;
    httpOverride?: boolean;
  },
): IstioSettings {
  return checkSettings({
    api: (options.api ?? DEFAULT_SETTINGS.api) as IstioApi,
    namespace: options.namespace ?? DEFAULT_SETTINGS.namespace,
    clusterName: options.clusterName ?? DEFAULT_SETTINGS.clusterName,
    httpOverride: options.httpOverride ?? DEFAULT_SETTINGS.httpOverride,
  });
}

/**
 * Renders, validates and writes the example. Refuses (nothing written) when a
 * file in `dir` differs, unless `force`.
 */
export async function scaffoldIstio(
  options: IstioScaffoldOptions = {},
): Promise<void> {
  await writeIstioScaffold(options);
  const dir = options.dir ?? DEFAULT_ISTIO_DIR;
  hint(
    `Next: wasmerang up istio --dir ${dir}   (add --dry-run to see every command first)`,
  );
}

async function writeIstioScaffold(
  options: IstioScaffoldOptions,
): Promise<void> {
  const dir = options.dir ?? DEFAULT_ISTIO_DIR;
  const settings = settingsFrom(options);
  const wasm = await loadShippableFilter(
    options.wasm,
    filterConfiguration(settings),
  );
  const files = renderIstioFiles(settings, wasm);
  const errors = validateIstioFiles(files).filter((issue) =>
    issue.severity === "error"
  );
  if (errors.length > 0) {
    throw new Error(
      `the generated Istio manifests do not validate:\n${
        renderManifestIssues(errors)
      }`,
    );
  }
  const stale: string[] = [];
  for (const name of OPTIONAL_FILES) {
    if (!files.has(name) && await exists(join(dir, name))) stale.push(name);
  }
  if (stale.length > 0 && !options.force) {
    const keep = stale.includes(HTTP_OVERRIDE_FILE)
      ? "--http-override"
      : `--api ${settings.api === "wasmplugin" ? "envoyfilter" : "wasmplugin"}`;
    throw new UserError(
      `refusing to leave ${
        join(dir, stale[0])
      } from an earlier scaffold with other options: ` +
        `\`up\` would apply it (pass --force to remove it, or ${keep} to keep it)`,
    );
  }
  const written = await writeScaffold(
    dir,
    [...files].map(([path, content]) => ({ path, content })),
    { force: options.force, command: "wasmerang scaffold istio" },
  );
  for (const name of stale) await Deno.remove(join(dir, name));
  console.log(renderWritten(dir, written));
  for (const name of stale) console.log(`removed   ${join(dir, name)}`);
  console.log(
    `✓ ${
      files.size - 1
    } manifests validated (Kubernetes/Istio schemas, Envoy protos for the wasm filter)`,
  );
}

/** Like `requirePrerequisites`, for the few tools one command needs. */
async function requireTools(
  names: ToolName[],
  command: string,
  exitCode = 1,
): Promise<void> {
  const missing = (await checkTools(names)).filter((status) => !status.found);
  if (missing.length === 0) return;
  throw new UserError(
    `${command} needs ${
      missing.map((status) => status.name).join(" and ")
    }, missing: ` +
      missing.map((status) => `${status.name}: ${status.hint}`).join("; ") +
      "; see 'wasmerang doctor istio'",
    exitCode,
  );
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/**
 * The settings a scaffolded folder was written with: the cluster name from
 * its kind config, the namespace from its ConfigMap, the HTTP override and
 * the installation API from the presence of their files. `undefined` when `dir` holds no Istio example.
 */
export async function readScaffoldSettings(
  dir: string,
): Promise<IstioSettings | undefined> {
  const kind = await readText(join(dir, KIND_CONFIG_FILE));
  const configMap = await readText(join(dir, CONFIGMAP_FILE));
  if (kind === undefined || configMap === undefined) return undefined;
  const clusterName = (parse(kind) as { name?: string } | null)?.name ??
    DEFAULT_SETTINGS.clusterName;
  const namespace =
    (parse(configMap) as { metadata?: { namespace?: string } } | null)?.metadata
      ?.namespace ??
      DEFAULT_SETTINGS.namespace;
  return checkSettings({
    api: await exists(join(dir, ENVOY_FILTER_FILE))
      ? "envoyfilter"
      : "wasmplugin",
    clusterName,
    namespace,
    httpOverride: await exists(join(dir, HTTP_OVERRIDE_FILE)),
  });
}

/** Options of `up istio`. */
export interface IstioUpOptions {
  /** The example folder (default `istio-k8s`); scaffolded first when it holds no example. */
  dir?: string;
  /** Print the plan; run and write nothing. */
  dryRun?: boolean;
  /** Used when `dir` does not exist yet and `up` scaffolds it. */
  namespace?: string;
  /** A module to ship when `up` scaffolds the folder. */
  wasm?: string;
  /** Used when `up` scaffolds the folder. */
  clusterName?: string;
  /** Used when `up` scaffolds the folder. */
  httpOverride?: boolean;
  /** Used when `up` scaffolds the folder. */
  api?: string;
}

/** Validates every manifest in the folder before anything is applied. */
async function validateFolder(
  dir: string,
  settings: IstioSettings,
): Promise<void> {
  const names = [KIND_CONFIG_FILE, ...manifestFiles(settings)];
  const issues = [];
  for (const name of names) {
    const text = await readText(join(dir, name));
    if (text === undefined) {
      throw new UserError(
        `${
          join(dir, name)
        } is missing: run 'wasmerang scaffold istio --dir ${dir} --force'`,
      );
    }
    issues.push(...validateYamlFile(join(dir, name), text));
  }
  const errors = issues.filter((issue) => issue.severity === "error");
  if (errors.length > 0) {
    throw new UserError(
      `the manifests in ${dir} do not validate:\n${
        renderManifestIssues(errors)
      }`,
    );
  }
}

/**
 * `up istio`: prerequisites, then the plan (kind cluster, Istio, namespace,
 * ConfigMap, manifests, rollouts). With `dryRun`, prints the plan for the
 * observed cluster (a fresh one when the tools or the cluster are missing)
 * and runs nothing.
 */
export async function upIstio(options: IstioUpOptions = {}): Promise<void> {
  const dir = options.dir ?? DEFAULT_ISTIO_DIR;
  if (!options.dryRun) await requirePrerequisites("istio");
  let settings = await readScaffoldSettings(dir);
  const scaffoldFirst = settings === undefined;
  if (!scaffoldFirst && options.wasm !== undefined) {
    throw new UserError(
      `${dir} already holds the example and its ConfigMap: put the module in it with ` +
        `'wasmerang scaffold istio --dir ${dir} --wasm ${options.wasm} --force', then run up again`,
      2,
    );
  }
  settings ??= settingsFrom(options);
  // A module that would not run is refused before the plan, in a dry run too.
  await loadShippableFilter(options.wasm, filterConfiguration(settings));
  if (options.dryRun) {
    const missing = missingFor("istio", await checkTools(MODE_NEEDS.istio));
    const state = missing.length === 0
      ? await observeCluster(settings)
      : { ...FRESH_CLUSTER };
    const lines = [
      `# wasmerang up istio --dir ${dir} (dry run: nothing is run or written)`,
      missing.length > 0
        ? `# missing ${
          missing.map((tool) => tool.name).join(", ")
        }: a real run stops here; plan for a new cluster:`
        : state.clusterExists
        ? `# cluster "${settings.clusterName}" exists: steps already done are skipped`
        : `# cluster "${settings.clusterName}" does not exist: every step runs`,
      ...(scaffoldFirst
        ? [`# write the example first: wasmerang scaffold istio --dir ${dir}`]
        : []),
      settings.api === "wasmplugin"
        ? `# the filter is installed with a WasmPlugin (${WASM_PLUGIN_FILE})`
        : `# the filter is installed with an EnvoyFilter (${ENVOY_FILTER_FILE})`,
      renderPlan(upPlan(settings, dir, state)),
    ];
    console.log(lines.join("\n"));
    return;
  }
  if (scaffoldFirst) await writeIstioScaffold({ ...options, dir });
  await validateFolder(dir, settings);
  const state = await observeCluster(settings);
  await executePlan(upPlan(settings, dir, state));
  hint(
    `The example runs in kind-${settings.clusterName}, namespace ${settings.namespace}. Next: wasmerang probe istio` +
      (settings.namespace === "default"
        ? ""
        : ` --namespace ${settings.namespace}`) +
      (settings.clusterName === "wasmerang"
        ? ""
        : ` --cluster-name ${settings.clusterName}`),
  );
}

/** Options shared by `probe istio` and `down istio` to find the example. */
export interface IstioTargetOptions {
  /** A scaffolded folder to read the namespace and cluster name from (default istio-k8s, if present). */
  dir?: string;
  /** The example's namespace (default: the folder's, else `default`). */
  namespace?: string;
  /** The kind cluster (default: the folder's, else `wasmerang`). */
  clusterName?: string;
}

async function targetSettings(
  options: IstioTargetOptions,
): Promise<IstioSettings> {
  const fromDir = await readScaffoldSettings(options.dir ?? DEFAULT_ISTIO_DIR);
  if (options.dir !== undefined && fromDir === undefined) {
    throw new UserError(
      `${options.dir} holds no Istio example (no ${KIND_CONFIG_FILE} and ${CONFIGMAP_FILE})`,
      2,
    );
  }
  return settingsFrom({
    namespace: options.namespace ?? fromDir?.namespace,
    clusterName: options.clusterName ?? fromDir?.clusterName,
    httpOverride: fromDir?.httpOverride,
    api: fromDir?.api,
  });
}

/** Options of `probe istio`. */
export interface IstioProbeTaskOptions extends IstioTargetOptions {
  /** Connections to make, round-robin over the client pods (default 8). */
  count?: number | string;
  /** 9000, or 80 through the HTTP override. */
  port?: number | string;
}

/**
 * `probe istio`: the report (the `probe` task prints it, as for every mode).
 * Usage errors and an unreachable cluster are UserErrors with exit 2.
 */
export async function probeIstioReport(
  options: IstioProbeTaskOptions = {},
): Promise<ProbeReport> {
  const settings = await targetSettings(options);
  const count = options.count === undefined ? undefined : Number(options.count);
  const port = options.port === undefined ? undefined : Number(options.port);
  if (
    port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)
  ) {
    throw new UserError(`invalid --port "${options.port}"`, 2);
  }
  if (port === HTTP_PORT && !settings.httpOverride) {
    console.error(
      `note: port ${HTTP_PORT} reaches the filter only with --http-override (scaffold istio --http-override)`,
    );
  }
  // Without kubectl nothing can be reached: exit 2, as probe docker without Docker.
  await requireTools(["kubectl"], "probe istio", 2);
  return await probeIstio(settings, { count, port });
}

/** Options of `down istio`. */
export interface IstioDownOptions extends IstioTargetOptions {
  /** Delete the whole kind cluster. */
  cluster?: boolean;
  /** Print the plan; run nothing. */
  dryRun?: boolean;
}

/** `down istio`: deletes what `up` made (or the kind cluster with `cluster`). */
export async function downIstio(options: IstioDownOptions = {}): Promise<void> {
  const settings = await targetSettings(options);
  if (options.dryRun) {
    const missing = missingFor("istio", await checkTools(MODE_NEEDS.istio));
    const state = missing.length === 0 ? await observeCluster(settings) : {
      ...FRESH_CLUSTER,
      clusterExists: true,
      namespaceExists: true,
      istioCrds: true,
      injectionEnabled: true,
    };
    console.log(renderPlan(downPlan(settings, state, options)));
    return;
  }
  await requireTools(["kind", "kubectl"], "down istio");
  const state = await observeCluster(settings);
  await executePlan(downPlan(settings, state, options));
  if (!options.cluster && state.clusterExists) {
    hint(
      `Istio stays installed in kind-${settings.clusterName}; 'wasmerang down istio --cluster' deletes the whole cluster.`,
    );
  }
}
