import assert from "node:assert/strict";
import { embeddedFilter } from "../../lib/filter_module.ts";
import { writeScaffold } from "../../lib/scaffold_files.ts";
import { composeCommand, httpStatus, readDockerExample } from "./compose.ts";
import { dockerScaffoldFiles } from "./scaffold.ts";
import { tempDir } from "../../testing/temp.ts";

Deno.test("httpStatus: status of a real answer, undefined for nothing or silence", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) =>
      new Response("", {
        status: new URL(request.url).pathname === "/ready" ? 200 : 503,
      }),
  );
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const connection of silent) held.push(connection);
  })();
  try {
    assert.equal(
      await httpStatus("127.0.0.1", server.addr.port, "/ready"),
      200,
    );
    assert.equal(
      await httpStatus("127.0.0.1", server.addr.port, "/other"),
      503,
    );
    const started = performance.now();
    assert.equal(
      await httpStatus("127.0.0.1", silent.addr.port, "/ready", 300),
      undefined,
    );
    assert.ok(performance.now() - started < 2000);
  } finally {
    await server.shutdown();
    silent.close();
    for (const connection of held) connection.close();
    await accepting.catch(() => {});
  }
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = closed.addr.port;
  closed.close();
  assert.equal(await httpStatus("127.0.0.1", port, "/ready"), undefined);
});

Deno.test("readDockerExample reads the subnet, Envoy's address and the filter configuration back", async () => {
  await using dirTemp = await tempDir();
  const dir = dirTemp.path;
  const files = dockerScaffoldFiles({
    wasm: embeddedFilter(),
    subnet: "10.42.0.0/24",
  });
  const envoy = files.find((file) => file.path === "envoy.yaml")!;
  envoy.content = (envoy.content as string).replace(
    "value: standalone",
    `value: '{"clusters": ["b", "a"]}'`,
  );
  await writeScaffold(dir, files);
  const example = await readDockerExample(dir);
  assert.equal(example.network.subnet, "10.42.0.0/24");
  assert.equal(example.envoyAddress, "10.42.0.2");
  assert.equal(example.filterConfiguration, '{"clusters": ["b", "a"]}');
  assert.deepEqual(composeCommand(dir), [
    "docker",
    "compose",
    "-f",
    `${dir}/docker-compose.yaml`,
  ]);
});
