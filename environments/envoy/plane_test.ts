/**
 * The embedded filter in a real Envoy (1.40 in CI), on loopback: both
 * parities from many 127.x.y.z sources, for standalone, for Istio names with
 * the wasm filter taken from the generated EnvoyFilter, and for custom
 * cluster names; Envoy refusing a bad configuration; counters and log lines.
 */
import {
  assert,
  assertEquals,
  assertMatch,
} from "../../host/testing/assert.ts";
import { UserError } from "../../lib/errors.ts";
import { decideCluster } from "../../lib/routing.ts";
import { DEFAULT_SETTINGS, PROBE_PORT } from "../istio/manifests.ts";
import {
  envoyFilter,
  httpOverride,
  wasmPlugin,
} from "../istio/filter_manifests.ts";
import { sidecarWasmFilters } from "../istio/sidecar.ts";
import { formatHostPort } from "../../lib/address.ts";
import type { EnvoyPlane } from "./plane.ts";
import { filterLogMessage } from "../../lib/envoy/process.ts";
import {
  bannersFrom,
  envoyProcessesMentioning,
  randomSources,
  startTestPlane,
  testEnvoy,
} from "../../testing/envoy.ts";

const envoy = await testEnvoy();

async function withPlane(
  options: {
    config: string;
    wasmFilter?: Record<string, unknown>;
    tcpProxyFilter?: Record<string, unknown>;
  },
  check: (plane: EnvoyPlane, access: string[]) => Promise<void>,
): Promise<void> {
  const access: string[] = [];
  const plane = await startTestPlane({
    ...options,
    onAccess: (line) => access.push(line),
  });
  try {
    await check(plane, access);
  } finally {
    await plane.close();
  }
}

/** Connects once from each source; asserts each reached the cluster the rule names. */
async function routesEverySource(
  plane: EnvoyPlane,
  sources: string[],
): Promise<Map<string, number>> {
  const destination = formatHostPort(plane.listen.host, plane.listen.port);
  const got = await bannersFrom(plane.listen, sources);
  const perCluster = new Map<string, number>();
  sources.forEach((source, i) => {
    const expected = decideCluster(`${source}:1`, destination, plane.config);
    assertEquals(got[i], expected, `source ${source}`);
    perCluster.set(expected!, (perCluster.get(expected!) ?? 0) + 1);
  });
  return perCluster;
}

/** Waits until Envoy's log has `count` decision lines (they are written asynchronously). */
async function decisionLines(
  plane: EnvoyPlane,
  count: number,
): Promise<string[]> {
  const deadline = Date.now() + 5000;
  while (true) {
    const lines = plane.envoy.log.map(filterLogMessage)
      .filter((entry) => entry?.message.includes(" source=")).map((entry) =>
        entry!.message
      );
    if (lines.length >= count || Date.now() > deadline) return lines;
    await new Promise((done) => setTimeout(done, 20));
  }
}

function bothParities(sources: string[]): void {
  const parities = new Set(sources.map((s) => Number(s.split(".")[3]) % 2));
  assertEquals(parities.size, 2, "the sources cover both parities");
}

Deno.test({
  name:
    "Envoy: standalone, 60 random loopback sources, counters and decision log lines",
  ignore: envoy === undefined,
  fn: () =>
    withPlane({ config: "standalone" }, async (plane, access) => {
      assertMatch(plane.loaded, /V8 VMs active.*configured mode=standalone/);
      const sources = randomSources(60);
      bothParities(sources);
      const perCluster = await routesEverySource(plane, sources);
      const counters = await plane.counters();
      assertEquals(counters, {
        "wasmerang.filter_state_failed": 0,
        "wasmerang.routed.egress1": perCluster.get("egress1") ?? 0,
        "wasmerang.routed.egress2": perCluster.get("egress2") ?? 0,
        "wasmerang.unparseable_source": 0,
      });
      const lines = await decisionLines(plane, sources.length);
      assertEquals(lines.length, sources.length);
      for (const source of sources) {
        const expected = decideCluster(`${source}:1`, undefined)!;
        const parity = expected === "egress1" ? "even" : "odd";
        assert(
          lines.some((line) =>
            new RegExp(
              `^wasmerang: connection \\d+ source=${
                source.replaceAll(".", "\\.")
              }:\\d+ destination=127\\.0\\.0\\.1:${plane.listen.port} -> ${expected} \\(${parity}, set_envoy_filter_state Ok\\)$`,
            ).test(line)
          ),
          `decision line for ${source}`,
        );
      }
      // tcp_proxy's access log names the cluster the filter chose (Envoy
      // flushes its stdout access log about once a second).
      const routedTo = (cluster: string) =>
        access.filter((line) => line.includes(` cluster=${cluster} `)).length;
      const deadline = Date.now() + 5000;
      while (access.length < sources.length && Date.now() < deadline) {
        await new Promise((done) => setTimeout(done, 50));
      }
      assertEquals(routedTo("egress1"), perCluster.get("egress1"));
      assertEquals(routedTo("egress2"), perCluster.get("egress2"));
    }),
});

Deno.test({
  name:
    "Envoy: Istio cluster names, the wasm filter taken from the generated EnvoyFilter",
  ignore: envoy === undefined,
  async fn() {
    const patch = envoyFilter(DEFAULT_SETTINGS).spec!.configPatches![0];
    assertEquals(patch.match?.listener?.portNumber, PROBE_PORT);
    const wasmFilter = patch.patch!.value as Record<string, unknown>;
    const config = (wasmFilter as {
      typed_config: { config: { configuration: { value: string } } };
    }).typed_config.config.configuration.value;
    await withPlane({ config, wasmFilter }, async (plane) => {
      const sources = randomSources(30);
      bothParities(sources);
      const perCluster = await routesEverySource(plane, sources);
      const port = plane.listen.port;
      assertEquals(
        [...perCluster.keys()].sort(),
        [
          `outbound|${port}||egress1.default.svc.cluster.local`,
          `outbound|${port}||egress2.default.svc.cluster.local`,
        ],
      );
      // The counters carry the configured names, not the full Istio ones.
      const counters = await plane.counters();
      for (const [cluster, count] of perCluster) {
        const name = cluster.match(/\|\|(egress[12])\./)![1];
        assertEquals(counters[`wasmerang.routed.${name}`], count, cluster);
      }
    });
  },
});

Deno.test({
  name:
    "Envoy: the HTTP override's two EnvoyFilter patches (wasm filter, replacing tcp_proxy) as Istio would apply them",
  ignore: envoy === undefined,
  async fn() {
    const [insert, replace] = httpOverride({
      ...DEFAULT_SETTINGS,
      api: "envoyfilter",
    }).spec!
      .configPatches!;
    assertEquals(
      [insert.patch!.operation, replace.patch!.operation],
      ["INSERT_BEFORE", "REPLACE"],
    );
    const wasmFilter = insert.patch!.value as Record<string, unknown>;
    const config = (wasmFilter as {
      typed_config: { config: { configuration: { value: string } } };
    }).typed_config.config.configuration.value;
    await withPlane(
      {
        config,
        wasmFilter,
        tcpProxyFilter: replace.patch!.value as Record<string, unknown>,
      },
      async (plane) => {
        const sources = randomSources(20);
        bothParities(sources);
        const perCluster = await routesEverySource(plane, sources);
        assertEquals(perCluster.size, 2);
      },
    );
  },
});

Deno.test({
  name:
    "Envoy: the filter Istio builds from the generated WasmPlugin (pluginConfig as Istio's JSON string) routes to Istio's cluster names",
  ignore: envoy === undefined,
  async fn() {
    const settings = { ...DEFAULT_SETTINGS, namespace: "mesh" };
    const [built] = sidecarWasmFilters(wasmPlugin(settings, "0".repeat(64)));
    const wasmFilter = built.filter as Record<string, unknown>;
    const config = (wasmFilter as {
      typed_config: { config: { configuration: { value: string } } };
    }).typed_config.config.configuration.value;
    assertEquals(config, '{"mode":"istio","namespace":"mesh"}');
    await withPlane({ config, wasmFilter }, async (plane) => {
      const sources = randomSources(30);
      bothParities(sources);
      const perCluster = await routesEverySource(plane, sources);
      const port = plane.listen.port;
      assertEquals([...perCluster.keys()].sort(), [
        `outbound|${port}||egress1.mesh.svc.cluster.local`,
        `outbound|${port}||egress2.mesh.svc.cluster.local`,
      ]);
    });
    // With the HTTP override, the WasmPlugin's filter and the override's one
    // REPLACE patch make the port-80 chain.
    const [replace] = httpOverride({ ...settings, httpOverride: true }).spec!
      .configPatches!;
    assertEquals(replace.patch!.operation, "REPLACE");
    await withPlane({
      config,
      wasmFilter,
      tcpProxyFilter: replace.patch!.value as Record<string, unknown>,
    }, async (plane) => {
      const sources = randomSources(10);
      bothParities(sources);
      assertEquals((await routesEverySource(plane, sources)).size, 2);
    });
  },
});

Deno.test({
  name: "Envoy: a JSON configuration with custom cluster names",
  ignore: envoy === undefined,
  fn: () =>
    withPlane(
      { config: JSON.stringify({ clusters: ["blue-pool", "green_pool"] }) },
      async (plane) => {
        const sources = randomSources(30);
        bothParities(sources);
        const perCluster = await routesEverySource(plane, sources);
        assertEquals([...perCluster.keys()].sort(), [
          "blue-pool",
          "green_pool",
        ]);
        const counters = await plane.counters();
        assertEquals(
          counters["wasmerang.routed.blue-pool"],
          perCluster.get("blue-pool"),
        );
      },
    ),
});

Deno.test({
  name:
    "Envoy refuses a configuration the filter refuses, with the filter's own words; nothing left running",
  ignore: envoy === undefined,
  async fn() {
    for (
      const [config, words] of [
        ['{"bogus":1}', /invalid configuration: unknown key "bogus"/],
        ['{"clusters":"a"}', /invalid configuration: .*clusters/],
        ["{not json", /invalid configuration/],
      ] as const
    ) {
      const dir = await Deno.makeTempDir({ prefix: "wasmerang-envoy-test-" });
      try {
        let error: unknown;
        try {
          await startTestPlane({ config, dir });
        } catch (caught) {
          error = caught;
        }
        assert(error instanceof UserError, `${config}: ${error}`);
        assertMatch(error.message, /^Envoy refused to start: wasmerang: /);
        assertMatch(error.message, words);
        assertEquals(envoyProcessesMentioning(dir), []);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
  },
});
