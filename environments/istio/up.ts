/** `wasmerang up istio`: the kind cluster, Istio and the example, as a plan. */
import { join } from "node:path";
import { UserError } from "../../lib/errors.ts";
import { loadShippableFilter } from "../../lib/module_check.ts";
import { missingTools, requirePrerequisites } from "../../lib/prerequisites.ts";
import { ISTIO_NEEDS } from "./needs.ts";
import { hint } from "../../lib/ui.ts";
import {
  ENVOY_FILTER_FILE,
  KIND_CONFIG_FILE,
  WASM_PLUGIN_FILE,
} from "./file_names.ts";
import { filterConfiguration, type IstioSettings } from "./manifests.ts";
import {
  FRESH_CLUSTER,
  manifestFiles,
  observeCluster,
  upPlan,
} from "./plan.ts";
import { writeIstioScaffold } from "./scaffold.ts";
import {
  DEFAULT_ISTIO_DIR,
  readScaffoldSettings,
  readText,
  settingsFrom,
} from "./settings.ts";
import { renderManifestIssues, validateYamlFile } from "./validate.ts";

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
  /** The egress names, used when `up` scaffolds the folder. */
  cluster?: readonly string[];
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
  if (!options.dryRun) await requirePrerequisites(ISTIO_NEEDS);
  let settings = await readScaffoldSettings(dir);
  const scaffoldFirst = settings === undefined;
  if (!scaffoldFirst && options.wasm !== undefined) {
    throw new UserError(
      `${dir} already holds the example and its ConfigMap: put the module in it with ` +
        `'wasmerang scaffold istio --dir ${dir} --wasm ${options.wasm} --force', then run up again`,
      2,
    );
  }
  if (
    settings !== undefined && (options.cluster?.length ?? 0) > 0 &&
    settingsFrom(options).clusters.join(",") !== settings.clusters.join(",")
  ) {
    throw new UserError(
      `${dir} holds the example with egresses ${
        settings.clusters.join(", ")
      }, not what --cluster asks: rewrite it with 'wasmerang scaffold istio --dir ${dir} --force' and the same flags, or leave --cluster out`,
      2,
    );
  }
  settings ??= settingsFrom(options);
  // A module that would not run is refused before the plan, in a dry run too.
  await loadShippableFilter(options.wasm, filterConfiguration(settings));
  if (options.dryRun) {
    const missing = await missingTools(ISTIO_NEEDS.needs);
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
      upPlan(settings, dir, state).render(),
    ];
    console.log(lines.join("\n"));
    return;
  }
  if (scaffoldFirst) await writeIstioScaffold({ ...options, dir });
  await validateFolder(dir, settings);
  const state = await observeCluster(settings);
  await upPlan(settings, dir, state).execute();
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
