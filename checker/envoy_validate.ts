/**
 * Asks a real Envoy whether it would load a configuration: `envoy --mode
 * validate`, which parses the bootstrap, builds every listener and cluster and
 * starts each wasm plugin (so the filter's own configure runs), without
 * binding a port.
 *
 * A wasm module path that does not exist on this machine (the Docker example's
 * `/etc/envoy/wasmerang.wasm`) is replaced by the embedded filter, and the
 * verdict says so.
 *
 * @example
 * ```ts
 * import { parse } from "yaml";
 * import { validateWithEnvoy } from "./envoy_validate.ts";
 * const verdict = await validateWithEnvoy(
 *   "envoy",
 *   parse(await Deno.readTextFile("envoy.yaml")),
 *   ".",
 * );
 * console.log(verdict.ok, verdict.errors);
 * ```
 */
import { isAbsolute, join } from "node:path";
import { embeddedFilter } from "../lib/filter_module.ts";
import { envoyErrorLines } from "../lib/envoy/process.ts";
import { isObject } from "./json_values.ts";
import { exists } from "../lib/files.ts";

/** What Envoy said about one configuration. */
export interface EnvoyVerdict {
  /** True when Envoy accepted it (`--mode validate` exited 0). */
  ok: boolean;
  /** Envoy's own error lines (log prefix removed), most specific first. */
  errors: string[];
  /** What was changed for the run, e.g. a missing wasm file replaced. */
  notes: string[];
  /**
   * Set when Envoy did not finish within the timeout (it was stopped): no
   * verdict, neither accepted nor rejected; `ok` is false.
   */
  timedOutMs?: number;
}

/** How long `envoy --mode validate` may take (a bootstrap with 100k listeners takes longer). */
export const VALIDATE_TIMEOUT_MS = 30_000;

export { isObject };

/** Every `vm_config.code.local` object (snake or camel case) in a value. */
export function localCodeSources(value: unknown): Record<string, unknown>[] {
  const found: Record<string, unknown>[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!isObject(node)) return;
    const vmConfig = node.vm_config ?? node.vmConfig;
    if (isObject(vmConfig) && isObject(vmConfig.code)) {
      const local = vmConfig.code.local;
      if (isObject(local) && typeof local.filename === "string") {
        found.push(local);
      }
    }
    Object.values(node).forEach(visit);
  };
  visit(value);
  return found;
}

/**
 * Runs `envoy --mode validate` on a bootstrap (a parsed YAML or JSON value).
 * Relative wasm paths are resolved from `baseDir`, as `envoy -c` started
 * there would. After `timeoutMs` Envoy is stopped and the verdict says
 * `timedOutMs` instead of Envoy's errors.
 */
export async function validateWithEnvoy(
  envoy: string,
  bootstrap: unknown,
  baseDir: string,
  timeoutMs: number = VALIDATE_TIMEOUT_MS,
): Promise<EnvoyVerdict> {
  const config = structuredClone(bootstrap);
  const notes: string[] = [];
  const workDir = await Deno.makeTempDir({ prefix: "wasmerang-validate-" });
  try {
    let substitute: string | undefined;
    for (const local of localCodeSources(config)) {
      const filename = local.filename as string;
      const path = isAbsolute(filename) ? filename : join(baseDir, filename);
      if (await exists(path)) {
        local.filename = path;
        continue;
      }
      if (!substitute) {
        substitute = join(workDir, "wasmerang.wasm");
        await Deno.writeFile(substitute, embeddedFilter());
      }
      local.filename = substitute;
      notes.push(
        `${filename} does not exist here: Envoy loaded the embedded wasmerang module in its place`,
      );
    }
    const configPath = join(workDir, "bootstrap.json");
    await Deno.writeTextFile(configPath, JSON.stringify(config));
    const signal = AbortSignal.timeout(timeoutMs);
    const child = new Deno.Command(envoy, {
      args: [
        "--mode",
        "validate",
        "--disable-hot-restart",
        "--log-level",
        "warning",
        "-c",
        configPath,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal,
    });
    const { code, stdout, stderr } = await child.output();
    if (signal.aborted && code !== 0) {
      return { ok: false, errors: [], notes, timedOutMs: timeoutMs };
    }
    const decoder = new TextDecoder();
    const output = decoder.decode(stderr) + "\n" + decoder.decode(stdout);
    const errors = envoyErrorLines(output.split("\n")).map((line) =>
      line.replaceAll(configPath, "the configuration")
    );
    if (code !== 0 && errors.length === 0) {
      errors.push(`envoy --mode validate exited with code ${code}`);
    }
    return { ok: code === 0, errors, notes };
  } finally {
    await Deno.remove(workDir, { recursive: true });
  }
}
