// The cost of one connection (context create → new connection → done → delete)
// through the host, for the filter and two hand-written reference modules
// (bench/reference_modules.ts): one whose hooks do nothing, and a lean one making
// the same decision with two host calls. Each is registered once per round, so
// `deno bench` runs them interleaved; bench/filter_cost.ts takes the median.
import { ProxyWasmVm, TCP_PROXY_CLUSTER_KEY } from "../host/mod.ts";
import { embeddedFilter } from "../lib/filter_module.ts";
import { ROOT_ID } from "../lib/routing.ts";
import { referenceModules } from "./reference_modules.ts";

/** Rounds of the interleaved benches (FILTER_BENCH_ROUNDS overrides). */
const ROUNDS = Number(Deno.env.get("FILTER_BENCH_ROUNDS") ?? 5);

const SOURCES = Array.from(
  { length: 256 },
  (_, i) => `10.0.${i >> 4}.${i}:${40000 + i}`,
);
const DESTINATION = "10.96.0.1:443";

const modules = await referenceModules();
const load = (wasm: Uint8Array, configuration: string) =>
  ProxyWasmVm.load(wasm, {
    rootId: ROOT_ID,
    configuration,
    logCapacity: 1000, // as the local proxy keeps them: a bounded log
  });
const subjects = [
  { name: "no-op module", vm: await load(modules.noop, "") },
  { name: "lean module", vm: await load(modules.lean, "") },
  {
    name: "filter (standalone)",
    vm: await load(embeddedFilter(), "standalone"),
  },
  { name: "filter (istio)", vm: await load(embeddedFilter(), "istio") },
];

// The lean module and the filter must decide as the filter does, or the figures mean nothing.
for (const { name, vm } of subjects.slice(1)) {
  for (
    const [source, egress] of [["10.0.0.4:1", "egress1"], [
      "10.0.0.7:1",
      "egress2",
    ]]
  ) {
    const connection = vm.openConnection({ source, destination: DESTINATION });
    const cluster = connection.filterState.get(TCP_PROXY_CLUSTER_KEY) ?? "";
    connection.finish();
    if (!cluster.includes(egress)) {
      throw new Error(
        `${name} chose "${cluster}" for ${source}, not ${egress}`,
      );
    }
  }
}

let i = 0;
for (let round = 1; round <= ROUNDS; round++) {
  for (const { name, vm } of subjects) {
    Deno.bench({
      name: `${name} #${round}`,
      group: `round ${round}`,
      baseline: name === "no-op module",
      fn: () => {
        vm.openConnection({
          source: SOURCES[i++ & 255],
          destination: DESTINATION,
        }).finish();
      },
    });
  }
}
