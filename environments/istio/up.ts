/** `wasmerang up istio`: the kind cluster, Istio and the example, as a plan. */
import { join } from "node:path";
import { UserError } from "../../lib/errors.ts";
import { refuseBothModules, withChosenModule } from "../../lib/filter_input.ts";
import { quoteText, ROOT_ID } from "../../lib/routing.ts";
import { describeFilter } from "../../lib/running_filter.ts";
import { missingTools, requirePrerequisites } from "../../lib/prerequisites.ts";
import { ISTIO_NEEDS } from "./needs.ts";
import { hint } from "../../lib/ui.ts";
import {
  ENVOY_FILTER_FILE,
  KIND_CONFIG_FILE,
  WASM_PLUGIN_FILE,
} from "./file_names.ts";
import type { IstioSettings } from "./manifests.ts";
import {
  FRESH_CLUSTER,
  manifestFiles,
  observeCluster,
  upPlan,
} from "./plan.ts";
import { shippableIstioFilter, writeIstioScaffold } from "./scaffold.ts";
import { folderModule } from "./probe.ts";
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
  /** A filter project whose module to ship (built when stale) when `up` scaffolds the folder, instead of `wasm`. */
  filter?: string;
  /** The root id (default: the folder's, else the project's, else `wasmerang`); an existing folder must name it. */
  rootId?: string;
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
    issues.push(...validateYamlFile(join(dir, name), text, settings));
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
export async function upIstio(given: IstioUpOptions = {}): Promise<void> {
  refuseBothModules(given);
  const dir = given.dir ?? DEFAULT_ISTIO_DIR;
  if (!given.dryRun) await requirePrerequisites(ISTIO_NEEDS);
  let settings = await readScaffoldSettings(dir);
  const scaffoldFirst = settings === undefined;
  const moduleFlag = given.filter !== undefined
    ? `--filter ${given.filter}`
    : given.wasm !== undefined
    ? `--wasm ${given.wasm}`
    : undefined;
  if (!scaffoldFirst && moduleFlag !== undefined) {
    throw new UserError(
      `${dir} already holds the example and its ConfigMap: put the module in it with ` +
        `'wasmerang scaffold istio --dir ${dir} ${moduleFlag} --force', then run up again`,
      2,
    );
  }
  if (
    settings !== undefined && (given.cluster?.length ?? 0) > 0 &&
    settingsFrom(given).clusters.join(",") !== settings.clusters.join(",")
  ) {
    throw new UserError(
      `${dir} holds the example with egresses ${
        settings.clusters.join(", ")
      }, not what --cluster asks: rewrite it with 'wasmerang scaffold istio --dir ${dir} --force' and the same flags, or leave --cluster out`,
      2,
    );
  }
  const folderRoot = settings?.rootId ?? ROOT_ID;
  if (
    settings !== undefined && given.rootId !== undefined &&
    given.rootId !== folderRoot
  ) {
    throw new UserError(
      `${dir} holds the example with the filter under root id ${
        quoteText(folderRoot)
      }, not what --root-id asks (${
        quoteText(given.rootId)
      }): rewrite it with 'wasmerang scaffold istio --dir ${dir} --force' and the same flags, or leave --root-id out`,
      2,
    );
  }
  // --filter: built here (compiled in memory for a dry run), then shipped as --wasm.
  const options = await withChosenModule(given, { write: !given.dryRun });
  settings ??= settingsFrom(options);
  // A module that would not run is refused before the plan, in a dry run too:
  // the one to write, else the folder's own (its ConfigMap).
  const inFolder = scaffoldFirst ? undefined : await folderModule(dir);
  const filter = inFolder !== undefined
    ? await shippableIstioFilter(
      { compiled: inFolder.wasm, wasm: inFolder.module },
      settings,
    )
    : await shippableIstioFilter(options, settings);
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
        ? [
          `# write the example first: wasmerang scaffold istio --dir ${dir}${
            moduleFlag === undefined ? "" : ` ${moduleFlag}`
          }${given.rootId === undefined ? "" : ` --root-id ${given.rootId}`}`,
        ]
        : []),
      ...(moduleFlag !== undefined || settings.rootId !== undefined
        ? [`# ${
          describeFilter(
            inFolder === undefined
              ? filter
              : { ...filter, path: inFolder.module },
            filter.configuration,
          )
        }`]
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
