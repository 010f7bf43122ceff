/**
 * The Docker example as a list of files: what `wasmerang scaffold docker`
 * writes and `wasmerang up docker` launches. Its envoy.yaml is checked
 * against Envoy's API every time it is generated.
 */
import { checkEnvoyBootstrap } from "../envoy_check.ts";
import type { ScaffoldFile } from "../scaffold_files.ts";
import {
  DEFAULT_ENVOY_IMAGE,
  DEFAULT_SUBNET,
  dockerNetwork,
} from "./network.ts";
import { composeYaml, envoyYaml, readme, WASM_FILE } from "./templates.ts";

/** Options of the Docker scaffold. */
export interface DockerScaffoldOptions {
  /** The filter module to ship (normally the embedded one). */
  wasm: Uint8Array;
  /** Envoy image, default `envoyproxy/envoy:v1.40.0`. */
  envoyImage?: string;
  /** The compose network's subnet, default `172.21.0.0/16`. */
  subnet?: string;
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
  options: DockerScaffoldOptions,
): ScaffoldFile[] {
  const envoyImage = options.envoyImage ?? DEFAULT_ENVOY_IMAGE;
  if (!/^[a-z0-9][a-z0-9._\/:@-]*$/i.test(envoyImage)) {
    throw new Error(`invalid --envoy-image "${envoyImage}"`);
  }
  const network = dockerNetwork(options.subnet ?? DEFAULT_SUBNET);
  const envoy = envoyYaml();
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
      content: composeYaml({ envoyImage, network }),
    },
    { path: "envoy.yaml", content: envoy },
    { path: WASM_FILE, content: options.wasm },
    { path: "README.md", content: readme({ envoyImage, network }) },
  ];
}
