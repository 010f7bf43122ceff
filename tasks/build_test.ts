// `wasmerang build` on filters that must not become modules.
import assert from "node:assert/strict";
import { runCli } from "../testing/cli.ts";
import { tempDir } from "../testing/temp.ts";

/**
 * Builds `source` as a filter entry. Unoptimized (`--debug`): what these tests
 * check (diagnostics, exports, nothing written) does not depend on binaryen's
 * passes, which take most of a release build's time.
 */
async function buildEntry(source: string) {
  await using temp = await tempDir();
  const folder = temp.path;
  await Deno.writeTextFile(`${folder}/index.ts`, source);
  const out = `${folder}/out.wasm`;
  const result = await runCli([
    "build",
    "--entry",
    `${folder}/index.ts`,
    "--out",
    out,
    "--debug",
  ]);
  const written = await Deno.stat(out).then(() => true, () => false);
  return { ...result, written };
}

Deno.test("a source error shows the compiler's own diagnostics and exits 1", async () => {
  const { code, stderr, written } = await buildEntry(
    'import { log } from "@solo-io/proxy-runtime/runtime";\nexport function f(): i32 { return "x"; }\n',
  );
  assert.equal(code, 1);
  assert.match(
    stderr,
    /ERROR TS2322: Type '~lib\/string\/String' is not assignable to type 'i32'/,
  );
  assert.match(stderr, /the filter did not compile/);
  assert.equal(written, false);
});

Deno.test("a module lacking the exports Envoy needs is refused and not written", async () => {
  const { code, stderr, written } = await buildEntry(
    'import { log } from "@solo-io/proxy-runtime/runtime";\nexport function f(): void { log(2, "x"); }\n',
  );
  assert.equal(code, 1);
  assert.match(
    stderr,
    /refusing to write .*out\.wasm: the module lacks exports Envoy needs: ABI version marker/,
  );
  assert.match(stderr, /new connection \(proxy_on_new_connection\)/);
  assert.equal(written, false);
});

Deno.test("an entry without the SDK is a clear error, not a crash", async () => {
  const { code, stderr } = await buildEntry(
    "export function f(): i32 { return 1; }\n",
  );
  assert.equal(code, 1);
  assert.match(stderr, /must import @solo-io\/proxy-runtime/);
  assert.doesNotMatch(stderr, /Uncaught/);
});

Deno.test("a filter registering another root id is built, and build says the root id is not ours", async () => {
  await using temp = await tempDir();
  const folder = temp.path;
  // The filter and the library it imports (lib/), with another root id.
  for (const sub of ["", "lib/"]) {
    const source = new URL(`../filter/assembly/${sub}`, import.meta.url);
    await Deno.mkdir(`${folder}/${sub}`, { recursive: true });
    for await (const entry of Deno.readDir(source)) {
      if (!entry.isFile) continue;
      const text = await Deno.readTextFile(new URL(entry.name, source));
      await Deno.writeTextFile(
        `${folder}/${sub}${entry.name}`,
        text.replace('ROOT_ID = "wasmerang"', 'ROOT_ID = "other"'),
      );
    }
  }
  const out = `${folder}/out.wasm`;
  const { code, stdout } = await runCli([
    "build",
    "--entry",
    `${folder}/index.ts`,
    "--out",
    out,
    // Unoptimized: the root id check does not depend on binaryen's passes,
    // which take most of a release build's time.
    "--debug",
  ]);
  assert.equal(code, 0);
  assert.match(
    stdout,
    /root id +not "wasmerang": .*Missing root context factory for root id: wasmerang/,
  );
  assert.ok(WebAssembly.validate(await Deno.readFile(out)));
});
