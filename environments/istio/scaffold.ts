/** `wasmerang scaffold istio`: render, validate and write the example folder. */
import { join } from "node:path";
import { UserError } from "../../lib/errors.ts";
import { refuseBothModules, withChosenModule } from "../../lib/filter_input.ts";
import { filterToRun, type RunningFilter } from "../../lib/running_filter.ts";
import { renderWritten, writeScaffold } from "../../lib/scaffold_files.ts";
import { hint } from "../../lib/ui.ts";
import { renderIstioFiles } from "./files.ts";
import { HTTP_OVERRIDE_FILE, OPTIONAL_FILES } from "./file_names.ts";
import { filterConfiguration, type IstioSettings } from "./manifests.ts";
import { ROOT_ID } from "../../lib/routing.ts";
import { DEFAULT_ISTIO_DIR, settingsFrom } from "./settings.ts";
import { exists } from "../../lib/files.ts";
import { renderManifestIssues, validateIstioFiles } from "./validate.ts";

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
  /** A filter project whose module to ship (built when stale), instead of `wasm`. */
  filter?: string;
  /** The root id (default: the project's, else `wasmerang`). */
  rootId?: string;
  /** The egress names (repeatable; default egress1, egress2). */
  cluster?: readonly string[];
}

/**
 * The module the sidecars will run (`--wasm`, else the embedded filter;
 * `--filter` already resolved by lib/filter_input.ts, or compiled in memory
 * for a dry run), refused unless it starts under the settings' root id with
 * the configuration they give it, as Envoy will start it.
 */
export async function shippableIstioFilter(
  chosen: { wasm?: string; compiled?: Uint8Array<ArrayBuffer> },
  settings: IstioSettings,
): Promise<RunningFilter> {
  const configuration = filterConfiguration(settings);
  return await filterToRun({
    ...chosen,
    rootId: settings.rootId ?? ROOT_ID,
    config: configuration,
  }, configuration);
}

/**
 * Renders, validates and writes the example. Refuses (nothing written) when a
 * file in `dir` differs, unless `force`.
 */
export async function scaffoldIstio(
  given: IstioScaffoldOptions = {},
): Promise<void> {
  refuseBothModules(given);
  settingsFrom(given); // usage mistakes first, before a project is built
  const options = await withChosenModule(given);
  await writeIstioScaffold(options);
  const dir = options.dir ?? DEFAULT_ISTIO_DIR;
  hint(
    `Next: wasmerang up istio --dir ${dir}   (add --dry-run to see every command first)`,
  );
}

/** Writes the example without the closing hint (`up` calls it when the folder is empty). */
export async function writeIstioScaffold(
  options: Omit<IstioScaffoldOptions, "filter">,
): Promise<void> {
  const dir = options.dir ?? DEFAULT_ISTIO_DIR;
  const settings = settingsFrom(options);
  const { wasm } = await shippableIstioFilter(options, settings);
  const files = renderIstioFiles(settings, wasm);
  const errors = validateIstioFiles(files, settings).filter((issue) =>
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
