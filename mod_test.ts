/**
 * mod.ts as another project imports it: from a folder outside the clone with
 * a deno.json of its own (no import map of ours), the library resolves and
 * drives a connection through the real embedded filter.
 */
import { assertEquals } from "./host/testing/assert.ts";

Deno.test("mod.ts resolves from a project outside the clone and runs the filter", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wasmerang-outside-" });
  try {
    await Deno.writeTextFile(`${dir}/deno.json`, "{}\n");
    const mod = new URL("./mod.ts", import.meta.url).href;
    await Deno.writeTextFile(
      `${dir}/main.ts`,
      [
        `import { embeddedFilter, ProxyWasmVm, ROOT_ID, TCP_PROXY_CLUSTER_KEY } from ${
          JSON.stringify(mod)
        };`,
        `const vm = await ProxyWasmVm.load(embeddedFilter(), { rootId: ROOT_ID, configuration: "standalone" });`,
        `for (const source of ["10.0.0.2:5555", "10.0.0.3:5555"]) {`,
        `  const connection = vm.openConnection({ source, destination: "10.96.0.1:443" });`,
        `  console.log(connection.filterState.get(TCP_PROXY_CLUSTER_KEY));`,
        `  connection.finish();`,
        `}`,
        `vm.close();`,
      ].join("\n"),
    );
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", "main.ts"],
      cwd: dir,
      stdin: "null",
    }).output();
    const decoder = new TextDecoder();
    assertEquals(decoder.decode(output.stderr), "");
    assertEquals(decoder.decode(output.stdout), "egress1\negress2\n");
    assertEquals(output.code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("lib/ui.ts imports the npm versions deno.json pins", async () => {
  const imports = JSON.parse(
    await Deno.readTextFile(new URL("./deno.json", import.meta.url)),
  ).imports as Record<string, string>;
  const ui = await Deno.readTextFile(new URL("./lib/ui.ts", import.meta.url));
  const used = [...ui.matchAll(/from "(npm:[^"]+)"/g)].map((match) => match[1]);
  assertEquals(used, [imports["nanospinner"], imports["cli-table3"]]);
});
