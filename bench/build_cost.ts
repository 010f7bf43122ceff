/**
 * Build and start-up: `wasmerang build` seconds, the .wasm size, and CLI
 * start-up times (bench/startup.ts).
 *
 * @module
 */
import { join } from "node:path";
import { ROOT } from "./options.ts";
import { startupBench, type StartupFigure } from "./startup.ts";

/** What the build benchmark measured. */
export interface BuildResult {
  buildSeconds: number;
  wasmBytes: number;
  startup: StartupFigure[];
}

/** Builds the filter into a temporary folder, timed, then times start-up. */
export async function buildBench(): Promise<BuildResult> {
  const dir = await Deno.makeTempDir({ prefix: "wasmerang-build-" });
  try {
    const out = join(dir, "wasmerang.wasm");
    const started = performance.now();
    const built = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", join(ROOT, "cli.ts"), "build", "--out", out],
      cwd: ROOT,
      stdout: "null",
      stderr: "piped",
    }).output();
    const buildSeconds = (performance.now() - started) / 1000;
    if (!built.success) {
      throw new Error(
        `wasmerang build failed: ${new TextDecoder().decode(built.stderr)}`,
      );
    }
    const wasmBytes = (await Deno.stat(out)).size;
    return { buildSeconds, wasmBytes, startup: await startupBench(10) };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
