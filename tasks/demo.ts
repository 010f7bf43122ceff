/**
 * `deno task demo`: the main job in one command, no Docker needed — the
 * filter (embedded, or rebuilt when filter/ changed since it was embedded),
 * the local example on free loopback ports, a probe over a spread of sources,
 * the table and the access log, then teardown. Exit 0 only when every probe
 * matched.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startLocalPlane } from "../dataplane/plane.ts";
import { DEFAULT_SOURCES, probeLocal } from "../lib/loopback_probe.ts";
import { describe } from "../environments/local/up.ts";
import { compileFilter } from "../lib/compiler.ts";
import { UserError } from "../lib/errors.ts";
import { embeddedFilter } from "../lib/filter_module.ts";
import { probeExitCode, renderProbeReport } from "../lib/probe_report.ts";
import { hint, step } from "../lib/ui.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const GENERATED = join(ROOT, "lib", "filter_wasm.generated.ts");
const ANY_PORT = { host: "127.0.0.1", port: 0 };

/** The newest modification time under `dir` (skipping build output), or 0. */
function newest(dir: string): number {
  let latest = 0;
  try {
    for (const entry of Deno.readDirSync(dir)) {
      if (entry.name === "build" || entry.name === "node_modules") continue;
      const path = join(dir, entry.name);
      latest = Math.max(
        latest,
        entry.isDirectory
          ? newest(path)
          : Deno.statSync(path).mtime?.getTime() ?? 0,
      );
    }
  } catch {
    // No filter/ here (an installed tool): the embedded module it is.
  }
  return latest;
}

/** The embedded filter, or a fresh build when filter/ is newer than the embedded copy. */
async function filterModule(): Promise<{ wasm: Uint8Array; how: string }> {
  const embeddedAt = Deno.statSync(GENERATED).mtime?.getTime() ?? 0;
  if (newest(join(ROOT, "filter")) <= embeddedAt + 1000) {
    return { wasm: embeddedFilter(), how: "the embedded filter" };
  }
  const result = await compileFilter();
  if (result.wasm === undefined) {
    throw new UserError(`filter/ does not compile:\n${result.diagnostics}`);
  }
  return {
    wasm: result.wasm,
    how: "filter/ rebuilt (it changed since it was embedded)",
  };
}

/** Runs the demo; returns the exit code. */
export async function demo(): Promise<number> {
  const { wasm, how } = await step("Preparing the filter", filterModule);
  console.error(`  using ${how}`);
  const access: string[] = [];
  const plane = await step(
    "Starting the proxy and egress1/egress2 on loopback",
    () =>
      startLocalPlane({
        listen: ANY_PORT,
        egress: [ANY_PORT, ANY_PORT],
        config: "standalone",
        wasm,
        onAccess: (line) => access.push(line),
      }),
  );
  try {
    console.error(describe(plane).replace(/^/gm, "  "));
    const report = await step(
      `Probing from ${DEFAULT_SOURCES.length} source addresses`,
      () =>
        probeLocal({
          target: plane.listen,
          sources: DEFAULT_SOURCES,
          judge: plane.judge,
        }),
    );
    await new Promise((done) => setTimeout(done, 50)); // the last access lines
    console.log(renderProbeReport(report));
    console.log(`\naccess log:\n${access.join("\n")}`);
    const code = probeExitCode(report);
    hint(
      code === 0
        ? "Next: run it yourself with 'wasmerang up local', or in a real Envoy with 'wasmerang up envoy'."
        : "Some sources reached the wrong egress: see the access log above and 'wasmerang route <source>'.",
    );
    return code;
  } finally {
    await step("Stopping everything", () => plane.close());
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await demo());
  } catch (error) {
    if (error instanceof UserError) {
      console.error(`wasmerang demo: ${error.message}`);
      Deno.exit(error.exitCode);
    }
    throw error;
  }
}
