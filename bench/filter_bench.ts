// The cost of one connection's decision: through the real .wasm in the host
// (context create → new connection → decision → done/log/delete) beside the same
// decision in plain TypeScript. Run with `deno task bench`.
import { ProxyWasmVm } from "../host/mod.ts";
import { embeddedFilter } from "../lib/filter_module.ts";
import { decideCluster, parseFilterConfig, ROOT_ID } from "../lib/routing.ts";

const SOURCES = Array.from(
  { length: 256 },
  (_, i) => `10.0.${i >> 4}.${i}:${40000 + i}`,
);
const DESTINATION = "10.96.0.1:443";

for (const configuration of ["standalone", "istio"]) {
  const vm = await ProxyWasmVm.load(embeddedFilter(), {
    rootId: ROOT_ID,
    configuration,
    logCapacity: 1000, // as the local proxy keeps them: a bounded log
  });
  const config = parseFilterConfig(configuration);
  let i = 0;

  Deno.bench({
    name: `wasm filter through the host (${configuration})`,
    group: `decision-${configuration}`,
    fn: () => {
      const connection = vm.openConnection({
        source: SOURCES[i++ & 255],
        destination: DESTINATION,
      });
      connection.finish();
    },
  });

  Deno.bench({
    name: `plain TypeScript decideCluster (${configuration})`,
    group: `decision-${configuration}`,
    baseline: true,
    fn: () => {
      decideCluster(SOURCES[i++ & 255], DESTINATION, config);
    },
  });
}
