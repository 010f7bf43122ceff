import assert from "node:assert/strict";
import { embeddedFilter } from "../../lib/filter_module.ts";
import { writeScaffold } from "../../lib/scaffold_files.ts";
import { composeCommand, readDockerExample } from "./compose.ts";
import { dockerScaffoldFiles } from "./scaffold.ts";
import { tempDir } from "../../testing/temp.ts";

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

Deno.test("readDockerExample reads the clusters, tcp_proxy's default and every egress address back", async () => {
  await using dirTemp = await tempDir();
  const dir = dirTemp.path;
  await writeScaffold(
    dir,
    dockerScaffoldFiles({
      wasm: embeddedFilter(),
      clusters: ["alpha", "beta", "gamma"],
    }),
  );
  const example = await readDockerExample(dir);
  assert.deepEqual(example.clusters, ["alpha", "beta", "gamma"]);
  assert.equal(example.defaultCluster, "alpha");
  assert.equal(example.filterConfiguration, '{"clusters":["alpha","beta"]}');
  assert.deepEqual(example.network.egresses, [
    "172.21.0.3",
    "172.21.0.4",
    "172.21.0.5",
  ]);
  assert.ok(example.network.reserved.includes("172.21.0.5"));
});
