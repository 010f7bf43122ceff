/**
 * The Docker example as a list of files: what `wasmerang scaffold docker`
 * writes and `wasmerang up docker` launches. Its envoy.yaml is checked
 * against Envoy's API every time it is generated.
 */
import * as path from "node:path";
import { checkEnvoyBootstrap } from "../../checker/envoy_check.ts";
import { UserError } from "../../lib/errors.ts";
import {
  loadShippableFilter,
  requireShippable,
} from "../../lib/module_check.ts";
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
  DOCKER_CONFIGURATION,
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
 * The module to ship (`--wasm`, else the embedded filter), refused unless it
 * starts with `configuration` in the host, as Envoy will start it.
 */
export async function shippableDockerFilter(
  wasm: string | undefined,
  configuration: string,
): Promise<Uint8Array> {
  const bytes = await loadShippableFilter(wasm, configuration);
  // The embedded filter is checked by the tests with its own configurations only.
  if (wasm === undefined && configuration !== DOCKER_CONFIGURATION) {
    await requireShippable(bytes, "the embedded filter", configuration);
  }
  return bytes;
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
  if (!/^[a-z0-9][a-z0-9._\/:@-]*$/i.test(envoyImage)) {
    throw new UserError(
      `invalid --envoy-image ${
        quoteText(envoyImage)
      }: expected an image reference like ${DEFAULT_ENVOY_IMAGE}`,
      2,
    );
  }
  const clusters = dockerClusterNames(options.clusters);
  const configuration = configurationOf({
    clusters,
    configuration: options.configuration,
  });
  const network = dockerNetwork(
    options.subnet ?? DEFAULT_SUBNET,
    clusters.length,
  );
  const template = { envoyImage, network, clusters, configuration };
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
  /** The cluster names, one egress service each, the first tcp_proxy's default. */
  cluster?: readonly string[];
  /** The filter's plugin configuration (default: the flagship's for the clusters). */
  config?: string;
}

/** Writes the Docker example folder and says what it wrote. */
export async function scaffoldDocker(
  options: DockerScaffoldOptions,
): Promise<void> {
  const dir = options.dir ?? DEFAULT_DIR;
  // Names first: a bad one is a usage error before the module is checked.
  const clusters = dockerClusterNames(options.cluster);
  const configuration = configurationOf({
    clusters,
    configuration: options.config,
  });
  const files = dockerScaffoldFiles({
    wasm: await shippableDockerFilter(options.wasm, configuration),
    envoyImage: options.envoyImage,
    subnet: options.subnet,
    clusters,
    configuration,
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
