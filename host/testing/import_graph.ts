/**
 * The project's import graph as Deno resolves it (`deno info --json`), for
 * tests that keep a layer's dependencies and the absence of cycles true.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** Project files (paths relative to the project root) and what each imports, type-only imports included. */
export type ImportGraph = Map<string, string[]>;

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The local modules reachable from `entry` (a path from the project root), with their local imports. */
export async function importGraph(entry: string): Promise<ImportGraph> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(
      `deno info ${entry} failed: ${new TextDecoder().decode(output.stderr)}`,
    );
  }
  const info = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    modules: {
      specifier: string;
      dependencies?: {
        code?: { specifier: string };
        type?: { specifier: string };
      }[];
    }[];
  };
  const local = (specifier: string | undefined) =>
    specifier?.startsWith("file://")
      ? fileURLToPath(specifier).slice(ROOT.length)
      : undefined;
  const graph: ImportGraph = new Map();
  for (const module of info.modules) {
    const from = local(module.specifier);
    if (from === undefined) continue;
    const targets = (module.dependencies ?? []).flatMap((dependency) =>
      [dependency.code?.specifier, dependency.type?.specifier].map(local)
    ).filter((path): path is string => path !== undefined);
    graph.set(from, [...new Set(targets)]);
  }
  return graph;
}

/** Every import cycle in `graph`, each as the list of its modules (empty when there is none). */
export function importCycles(graph: ImportGraph): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (module: string) => {
    state.set(module, "open");
    path.push(module);
    for (const target of graph.get(module) ?? []) {
      const seen = state.get(target);
      if (seen === "open") cycles.push(path.slice(path.indexOf(target)));
      else if (seen === undefined) visit(target);
    }
    path.pop();
    state.set(module, "done");
  };
  for (const module of graph.keys()) {
    if (!state.has(module)) visit(module);
  }
  return cycles;
}
