/**
 * `examples/istio-k8s/` is exactly what `wasmerang scaffold istio` writes with
 * the defaults and the embedded filter. After changing the templates or the
 * filter, regenerate it with:
 *
 *   deno run -A cli.ts scaffold istio --dir examples/istio-k8s --force
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { embeddedFilter } from "../../lib/filter_module.ts";
import { renderIstioFiles } from "./files.ts";
import { DEFAULT_SETTINGS } from "./manifests.ts";
import { validateIstioFiles } from "./validate.ts";

const EXAMPLE = fileURLToPath(
  new URL("../../examples/istio-k8s/", import.meta.url),
);

Deno.test("examples/istio-k8s is exactly the scaffold output", async () => {
  const expected = renderIstioFiles({ ...DEFAULT_SETTINGS }, embeddedFilter());
  const present: string[] = [];
  for await (const entry of Deno.readDir(EXAMPLE)) present.push(entry.name);
  assert.deepEqual(present.sort(), [...expected.keys()].sort());
  for (const [name, text] of expected) {
    assert.ok(
      (await Deno.readTextFile(EXAMPLE + name)) === text,
      `examples/istio-k8s/${name} differs from the scaffold: regenerate it (see this file's header)`,
    );
  }
});

Deno.test("examples/istio-k8s validates as committed", async () => {
  const files = new Map<string, string>();
  for await (const entry of Deno.readDir(EXAMPLE)) {
    files.set(entry.name, await Deno.readTextFile(EXAMPLE + entry.name));
  }
  assert.deepEqual(validateIstioFiles(files), []);
});
