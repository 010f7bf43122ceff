/**
 * For tests of `--filter DIR`: a filter project exactly as `wasmerang new`
 * writes it (lib/new_project.ts's own files), with its rule replaced.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { projectFiles } from "../lib/new_project.ts";

/** A rule: an even last IPv4 octet goes to `even-side`, odd to `odd-side`, anything else is left alone. */
export const SIDES_RULE = `import { ipv4Octet } from "./lib/address";

export function decide(source: string, destination: string): string | null {
  const octet = ipv4Octet(source, 3);
  if (octet < 0) return null;
  return octet % 2 == 0 ? "even-side" : "odd-side";
}
`;

/**
 * A rule naming Istio's outbound clusters of the scaffold's egresses on port
 * 9000 in `default`: an even last octet (the pod IP's) `alpha`, odd `beta`.
 */
export const ISTIO_ALPHA_BETA_RULE = `import { ipv4Octet } from "./lib/address";

export function decide(source: string, destination: string): string | null {
  const octet = ipv4Octet(source, 3);
  if (octet < 0) return null;
  return "outbound|9000||" + (octet % 2 == 0 ? "alpha" : "beta") +
    ".default.svc.cluster.local";
}
`;

/** Writes the project `new` writes for `rootId` into `dir`, `decide` as its `assembly/decide.ts`. */
export async function writeFilterProject(
  dir: string,
  rootId: string,
  decide: string,
): Promise<void> {
  for (const [name, content] of await projectFiles(rootId)) {
    await Deno.mkdir(dirname(join(dir, name)), { recursive: true });
    await Deno.writeTextFile(join(dir, name), content);
  }
  await Deno.writeTextFile(join(dir, "assembly", "decide.ts"), decide);
}
