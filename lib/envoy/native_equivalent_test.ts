/**
 * The filter against Envoy's native equivalent: the same 500 random loopback
 * sources through a real Envoy running the filter and a real Envoy running
 * `set_filter_state` + CEL must reach the same egress, every one.
 */
import { assertEquals, assertThrows } from "../../host/testing/assert.ts";
import { startEgress } from "../../dataplane/egress.ts";
import { formatHostPort } from "../address.ts";
import { writeYaml } from "../yaml_safe.ts";
import { envoyBootstrapData } from "./bootstrap.ts";
import { startEnvoy } from "./process.ts";
import {
  nativeParityFilter,
  parityExpression,
  SET_FILTER_STATE_FILTER,
  withNativeParityFilter,
} from "./native_equivalent.ts";
import {
  bannersFrom,
  randomSources,
  startTestPlane,
  testEnvoy,
} from "../../testing/envoy.ts";

const envoy = await testEnvoy();

/** A free loopback port (closed again before Envoy binds it). */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

Deno.test("the native filter takes the wasm filter's place, tcp_proxy stays last", () => {
  const data = envoyBootstrapData({
    writtenBy: "test",
    checkCommand: "wasmerang check envoy.yaml",
    admin: { address: "127.0.0.1", port: 9901 },
    listener: { address: "127.0.0.1", port: 10000 },
    configuration: "standalone",
    wasmFilename: "/x.wasm",
    clusters: [
      { name: "egress1", address: "127.0.0.1", port: 1 },
      { name: "egress2", address: "127.0.0.1", port: 2 },
    ],
    clusterType: "STATIC",
  });
  const native = withNativeParityFilter(data) as {
    static_resources: {
      listeners: { filter_chains: { filters: { name: string }[] }[] }[];
    };
  };
  const names = native.static_resources.listeners[0].filter_chains[0].filters
    .map((filter) => filter.name);
  assertEquals(names, [
    SET_FILTER_STATE_FILTER,
    "envoy.filters.network.tcp_proxy",
  ]);
  // The input is left as it was.
  assertEquals(
    (data as typeof native).static_resources.listeners[0].filter_chains[0]
      .filters[0].name,
    "envoy.filters.network.wasm",
  );
  assertEquals(
    parityExpression("a'b", "c\\d"),
    "source.address.matches('[02468]:[0-9]+$') ? 'a\\'b' : 'c\\\\d'",
  );
  assertThrows(() => nativeParityFilter("100%", "b"), Error);
});

Deno.test({
  name:
    "native differential: 500 random sources reach the same egress through the filter and through set_filter_state + CEL in Envoy",
  ignore: envoy === undefined,
  async fn() {
    const sources = randomSources(500);
    const egress = [
      await startEgress("egress1", { host: "127.0.0.1", port: 0 }),
      await startEgress("egress2", { host: "127.0.0.1", port: 0 }),
    ];
    const dir = await Deno.makeTempDir({ prefix: "wasmerang-native-" });
    try {
      const listen = { host: "127.0.0.1", port: freePort() };
      const admin = { host: "127.0.0.1", port: freePort() };
      const bootstrap = `${dir}/native.yaml`;
      await Deno.writeTextFile(
        bootstrap,
        writeYaml(withNativeParityFilter(envoyBootstrapData({
          writtenBy: "test",
          checkCommand: "wasmerang check native.yaml",
          admin: { address: admin.host, port: admin.port },
          listener: { address: listen.host, port: listen.port },
          configuration: "standalone",
          wasmFilename: "/unused.wasm",
          clusters: egress.map((server) => ({
            name: server.name,
            address: server.address.host,
            port: server.address.port,
          })),
          clusterType: "STATIC",
        }))),
      );
      const native = await startEnvoy({
        envoy: envoy!,
        bootstrap,
        admin: formatHostPort(admin.host, admin.port),
        concurrency: 2,
      });
      let nativeGot: (string | null)[];
      try {
        nativeGot = await bannersFrom(listen, sources);
      } finally {
        await native.stop();
      }

      const plane = await startTestPlane({ config: "standalone" });
      let filterGot: (string | null)[];
      try {
        filterGot = await bannersFrom(plane.listen, sources);
      } finally {
        await plane.close();
      }

      assertEquals(nativeGot.filter((got) => got === null).length, 0);
      const differing = sources.flatMap((source, i) =>
        nativeGot[i] === filterGot[i]
          ? []
          : [`${source}: native ${nativeGot[i]}, filter ${filterGot[i]}`]
      );
      assertEquals(differing, [], "sources routed differently");
      // Both parities were exercised.
      assertEquals(new Set(nativeGot), new Set(["egress1", "egress2"]));
    } finally {
      for (const server of egress) await server.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
