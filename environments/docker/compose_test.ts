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
