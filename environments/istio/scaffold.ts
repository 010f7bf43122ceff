/** `wasmerang scaffold istio`: render, validate and write the example folder. */
import { join } from "node:path";
import { UserError } from "../../lib/errors.ts";
import { loadShippableFilter } from "../../lib/module_check.ts";
import { renderWritten, writeScaffold } from "../../lib/scaffold_files.ts";
import { hint } from "../../lib/ui.ts";
import { renderIstioFiles } from "./files.ts";
import { HTTP_OVERRIDE_FILE, OPTIONAL_FILES } from "./file_names.ts";
import { filterConfiguration } from "./manifests.ts";
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
  /** The egress names (repeatable; default egress1, egress2). */
  cluster?: readonly string[];
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

/** Writes the example without the closing hint (`up` calls it when the folder is empty). */
export async function writeIstioScaffold(
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
