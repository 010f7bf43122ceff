/** `wasmerang probe istio`: find the example, then probe from its client pods. */
import { UserError } from "../../lib/errors.ts";
import { requirePrerequisites } from "../../lib/prerequisites.ts";
import { ISTIO_NEEDS } from "./needs.ts";
import type { ProbeReport } from "../../lib/probe_report.ts";
import { HTTP_PORT, WASM_KEY } from "./manifests.ts";
import { probeIstio } from "./pod_probe.ts";
import {
  DEFAULT_ISTIO_DIR,
  type IstioTargetOptions,
  targetSettings,
} from "./settings.ts";
import { CONFIGMAP_FILE } from "./file_names.ts";
import { join } from "node:path";
import { parse } from "yaml";

/**
 * The module the example's sidecars run: the one in the folder's ConfigMap,
 * when there is a folder (else the probe judges by the embedded filter).
 */
export async function folderModule(
  dir: string,
): Promise<{ wasm: Uint8Array<ArrayBuffer>; module: string } | undefined> {
  const file = join(dir, CONFIGMAP_FILE);
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch {
    return undefined;
  }
  let data: unknown;
  try {
    data = (parse(text) as { binaryData?: Record<string, unknown> } | null)
      ?.binaryData?.[WASM_KEY];
  } catch {
    return undefined;
  }
  if (typeof data !== "string") return undefined;
  const wasm = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  if (!WebAssembly.validate(wasm)) {
    throw new UserError(
      `${file}: its ${WASM_KEY} is not a valid WebAssembly module`,
      2,
    );
  }
  return { wasm, module: `${file} (${WASM_KEY})` };
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
  await requirePrerequisites(ISTIO_NEEDS, {
    exitCode: 2,
    only: { tools: ["kubectl"], command: "probe istio" },
  });
  const filter = await folderModule(options.dir ?? DEFAULT_ISTIO_DIR);
  return await probeIstio(settings, {
    count,
    port,
    ...(filter === undefined ? {} : { filter }),
  });
}
