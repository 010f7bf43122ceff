/**
 * The Docker example as a list of files: what `wasmerang scaffold docker`
 * writes and `wasmerang up docker` launches. Its envoy.yaml is checked
 * against Envoy's API every time it is generated.
 */
import * as path from "node:path";
import { checkEnvoyBootstrap } from "../../checker/envoy_check.ts";
import { UserError } from "../../lib/errors.ts";
import { refuseBothModules, withChosenModule } from "../../lib/filter_input.ts";
import {
  checkedRootId,
  type FilterFlags,
  filterToRun,
  type RunningFilter,
} from "../../lib/running_filter.ts";
import {
  renderWritten,
  type ScaffoldFile,
  writeScaffold,
} from "../../lib/scaffold_files.ts";
import { hint } from "../../lib/ui.ts";
import { quoteText } from "../../lib/routing.ts";
import { scaffoldClusterNames } from "../../lib/clusters.ts";
import {
  DEFAULT_DIR,
  DEFAULT_ENVOY_IMAGE,
  DEFAULT_SUBNET,
  dockerNetwork,
} from "./network.ts";
import {
  composeYaml,
  configurationOf,
  ENVOY_SERVICE,
  envoyYaml,
  readme,
  WASM_FILE,
} from "./templates.ts";

/** What the Docker example files are made from (`dockerScaffoldFiles`). */
export interface DockerFilesOptions {
  /** The filter module to ship (normally the embedded one). */
  wasm: Uint8Array;
  /** Envoy image, default `envoyproxy/envoy:v1.40.0`. */
  envoyImage?: string;
  /** The compose network's subnet, default `172.21.0.0/16`. */
  subnet?: string;
  /** The clusters as `--cluster` names them, checked here (default `egress1`, `egress2`). */
  clusters?: readonly string[];
  /** The filter's configuration (default: the flagship's for the clusters). */
  configuration?: string;
  /** The root id envoy.yaml names (default `wasmerang`). */
  rootId?: string;
}

/**
 * The cluster names of `scaffold|up docker --cluster`, checked: each becomes
 * a Compose service and its DNS name (default `egress1`, `egress2`).
 */
export function dockerClusterNames(
  names: readonly string[] | undefined,
): string[] {
  return scaffoldClusterNames(names, {
    becomes: "a Compose service and its DNS name",
    taken: { [ENVOY_SERVICE]: "Envoy's own Compose service" },
  });
}

/**
 * The module to ship (`--wasm`, else the embedded filter; `--filter` already
 * resolved to its module by lib/filter_input.ts, or compiled in memory for a
 * dry run) and the root id it runs under (`--root-id`, else the project's,
 * else `wasmerang`), refused unless it starts under that root id with
 * `configuration` in the host, as Envoy will start it.
 */
export async function shippableDockerFilter(
  chosen: Omit<FilterFlags, "filter" | "config">,
  configuration: string,
): Promise<RunningFilter> {
  return await filterToRun({ ...chosen, config: configuration }, configuration);
}

/** An `--envoy-image` that is not an image reference is a usage error. */
function checkEnvoyImage(envoyImage: string): void {
  if (!/^[a-z0-9][a-z0-9._\/:@-]*$/i.test(envoyImage)) {
    throw new UserError(
      `invalid --envoy-image ${
        quoteText(envoyImage)
      }: expected an image reference like ${DEFAULT_ENVOY_IMAGE}`,
      2,
    );
  }
}

/** The file names, in the order they are written. */
export const DOCKER_FILES = [
  "docker-compose.yaml",
  "envoy.yaml",
  WASM_FILE,
  "README.md",
] as const;

/**
 * Builds the example's files. Throws when the generated envoy.yaml does not
 * pass the Envoy API check (a bug in the templates, never the user's doing).
 */
export function dockerScaffoldFiles(
  options: DockerFilesOptions,
): ScaffoldFile[] {
  const envoyImage = options.envoyImage ?? DEFAULT_ENVOY_IMAGE;
  checkEnvoyImage(envoyImage);
  const clusters = dockerClusterNames(options.clusters);
  const configuration = configurationOf({
    clusters,
    configuration: options.configuration,
  });
  const network = dockerNetwork(
    options.subnet ?? DEFAULT_SUBNET,
    clusters.length,
  );
  const template = {
    envoyImage,
    network,
    clusters,
    configuration,
    rootId: options.rootId,
  };
  const envoy = envoyYaml(template);
  const errors = checkEnvoyBootstrap(envoy).filter((issue) =>
    issue.severity === "error"
  );
  if (errors.length > 0) {
    throw new Error(
      `generated envoy.yaml fails the Envoy API check: ${errors[0].path}: ${
        errors[0].message
      }`,
    );
  }
  return [
    {
      path: "docker-compose.yaml",
      content: composeYaml(template),
    },
    { path: "envoy.yaml", content: envoy },
    { path: WASM_FILE, content: options.wasm },
    { path: "README.md", content: readme(template) },
  ];
}

/** Options of `wasmerang scaffold docker`. */
export interface DockerScaffoldOptions {
  /** The folder to write, default `envoy-docker`. */
  dir?: string;
  /** Envoy image, default `envoyproxy/envoy:v1.40.0`. */
  envoyImage?: string;
  /** The compose network's subnet, default `172.21.0.0/16`. */
  subnet?: string;
  /** Replace files that exist with different content instead of refusing. */
  force?: boolean;
  /** Ship this module instead of the embedded filter. */
  wasm?: string;
  /** Ship this filter project's module (built when stale), instead of `wasm`. */
  filter?: string;
  /** The root id (default: the project's, else `wasmerang`). */
  rootId?: string;
  /** The cluster names, one egress service each, the first tcp_proxy's default. */
  cluster?: readonly string[];
  /** The filter's plugin configuration (default: the flagship's for the clusters). */
  config?: string;
}

/** Writes the Docker example folder and says what it wrote. */
export async function scaffoldDocker(
  given: DockerScaffoldOptions,
): Promise<void> {
  refuseBothModules(given);
  const dir = given.dir ?? DEFAULT_DIR;
  // Usage mistakes first, before a project is built or the module checked.
  const clusters = dockerClusterNames(given.cluster);
  if (given.rootId !== undefined) checkedRootId(given.rootId);
  checkEnvoyImage(given.envoyImage ?? DEFAULT_ENVOY_IMAGE);
  dockerNetwork(given.subnet ?? DEFAULT_SUBNET, clusters.length);
  const configuration = configurationOf({
    clusters,
    configuration: given.config,
  });
  const options = await withChosenModule(given);
  const filter = await shippableDockerFilter(options, configuration);
  const files = dockerScaffoldFiles({
    wasm: filter.wasm,
    envoyImage: options.envoyImage,
    subnet: options.subnet,
    clusters,
    configuration,
    rootId: filter.rootId,
  });
  const written = await writeScaffold(dir, files, {
    force: options.force,
    command: "scaffold docker",
  });
  console.log(renderWritten(dir, written));
  const dirFlag = dir === DEFAULT_DIR ? "" : ` --dir ${dir}`;
  hint(
    `✓ ${path.join(dir, "envoy.yaml")} passes the Envoy API check.\n` +
      `Next: read ${
        path.join(dir, "README.md")
      }, then: wasmerang up docker${dirFlag}`,
  );
}
