// Soak of the real filter in the host (`deno task test:soak`): 100,000
// connections on one VM leave its memory exactly where warm-up left it.
import assert from "node:assert/strict";
import { ProxyWasmVm } from "../host/mod.ts";
import { embeddedFilter } from "./filter_module.ts";
import { ROOT_ID, TCP_PROXY_CLUSTER_KEY } from "./routing.ts";

Deno.test("100,000 connections leave the module's memory where warm-up left it", async () => {
  const filter = await ProxyWasmVm.load(embeddedFilter(), {
    rootId: ROOT_ID,
    configuration: "istio",
  });
  const connect = (i: number) => {
    const connection = filter.openConnection({
      source: `10.${i & 255}.${(i >> 8) & 255}.${i % 251}:${
        1024 + (i % 60000)
      }`,
      destination: "10.96.0.1:443",
    });
    connection.finish();
    assert.ok(connection.filterState.get(TCP_PROXY_CLUSTER_KEY));
  };
  for (let i = 0; i < 1_000; i++) connect(i);
  const warm = filter.memoryBytes();
  for (let i = 0; i < 100_000; i++) connect(i);
  assert.equal(filter.memoryBytes(), warm);
  filter.close();
});
