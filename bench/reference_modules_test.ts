import { assertEquals } from "../host/testing/assert.ts";
import { ProxyWasmVm, TCP_PROXY_CLUSTER_KEY } from "../host/mod.ts";
import { decideCluster, DEFAULT_CONFIG, ROOT_ID } from "../lib/routing.ts";
import { referenceModules } from "./reference_modules.ts";

Deno.test("the lean reference module routes by parity as the filter does; the no-op module decides nothing", async () => {
  const { noop, lean } = await referenceModules();
  const leanVm = await ProxyWasmVm.load(lean, { rootId: ROOT_ID });
  const noopVm = await ProxyWasmVm.load(noop, { rootId: ROOT_ID });
  for (let octet = 0; octet < 256; octet += 7) {
    const source = `10.1.2.${octet}:${40000 + octet}`;
    const destination = "10.96.0.1:443";
    const connection = leanVm.openConnection({ source, destination });
    assertEquals(
      connection.filterState.get(TCP_PROXY_CLUSTER_KEY),
      decideCluster(source, destination, DEFAULT_CONFIG),
      source,
    );
    connection.finish();
    const idle = noopVm.openConnection({ source, destination });
    assertEquals(idle.filterState.size, 0);
    idle.finish();
  }
  // Thousands of connections: the module's heap is reused, not exhausted.
  for (let i = 0; i < 20_000; i++) {
    leanVm.openConnection({ source: "10.0.0.3:1", destination: "x:1" })
      .finish();
  }
  const last = leanVm.openConnection({
    source: "10.0.0.8:1",
    destination: "x:1",
  });
  assertEquals(last.filterState.get(TCP_PROXY_CLUSTER_KEY), "egress1");
  assertEquals(leanVm.logs, []);
  leanVm.close();
  noopVm.close();
});
