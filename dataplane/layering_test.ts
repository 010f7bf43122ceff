import { assertEquals } from "../host/testing/assert.ts";
import { importCycles, importGraph } from "../host/testing/import_graph.ts";

/**
 * What the data plane may use besides itself and the host: small shared
 * pieces of lib/ (the judge is the host running a filter's decision).
 */
const SHARED = [
  "lib/address.ts",
  "lib/errors.ts",
  "lib/judge.ts",
  "lib/routing.ts",
];

Deno.test("the data plane sits between the host and the environments, without cycles", async () => {
  for (const entry of ["dataplane/mod.ts", "dataplane/egress_worker.ts"]) {
    const graph = await importGraph(entry);
    const allowed = (path: string) =>
      path.startsWith("dataplane/") || path.startsWith("host/") ||
      SHARED.includes(path);
    const outside = [...graph.keys()].filter((path) => !allowed(path));
    assertEquals(outside, [], `${entry} reaches beyond its layer`);
    assertEquals(importCycles(graph), []);
    assertEquals(graph.has(entry), true);
  }
});
