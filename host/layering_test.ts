import { assertEquals } from "./testing/assert.ts";
import { importCycles, importGraph } from "./testing/import_graph.ts";

Deno.test("the host depends on nothing else in the project and has no import cycle", async () => {
  const graph = await importGraph("host/mod.ts");
  const outside = [...graph].flatMap(([from, targets]) =>
    targets.filter((target) => !target.startsWith("host/")).map((target) =>
      `${from} -> ${target}`
    )
  );
  assertEquals(outside, []);
  assertEquals(importCycles(graph), []);
  // The graph is real: the host's parts are in it.
  assertEquals(graph.has("host/calls/foreign.ts"), true);
});

Deno.test("the import-cycle finder names a cycle, type-only imports included", () => {
  const graph = new Map([
    ["a.ts", ["b.ts"]],
    ["b.ts", ["c.ts"]],
    ["c.ts", ["a.ts"]],
    ["d.ts", ["a.ts"]],
  ]);
  assertEquals(importCycles(graph), [["a.ts", "b.ts", "c.ts"]]);
  assertEquals(importCycles(new Map([["a.ts", ["b.ts"]], ["b.ts", []]])), []);
});
