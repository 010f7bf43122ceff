/**
 * Two listeners whose wasm filters share one VM (same vm_config, different
 * plugin configuration): Envoy then runs two root contexts of the filter in
 * each VM. Each listener's connections must follow their own root's rule.
 * The filter finds a connection's root without a lookup while its VM has one
 * root, and through a map only when it has more: this proves the second path
 * in a real Envoy.
 */
import { parse, stringify } from "yaml";
import { join } from "node:path";
import { assert, assertEquals } from "../../host/testing/assert.ts";
import { embeddedFilter } from "../../lib/filter_module.ts";
import { envoyBootstrap } from "../../lib/envoy/bootstrap.ts";
import { startEnvoy } from "../../lib/envoy/process.ts";
import { startEgress } from "../../dataplane/egress.ts";
import type { HostPort } from "../../lib/address.ts";
import { bootstrapCluster } from "./plane.ts";
import { adminStats } from "../../lib/envoy/admin.ts";
import { bannersFrom, testEnvoy } from "../../testing/envoy.ts";

const envoy = await testEnvoy();
const SWAPPED = '{"clusters":["egress2","egress1"]}';

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

type Listener = {
  name: string;
  address: { socket_address: { port_value: number } };
  filter_chains: {
    filters: {
      name: string;
      typed_config: { config?: { configuration: { value: string } } };
    }[];
  }[];
};

Deno.test({
  name:
    "Envoy: two plugin configurations in one shared VM route each listener by its own root",
  ignore: envoy === undefined,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "wasmerang-shared-vm-" });
    const egress = [
      await startEgress("egress1", { host: "127.0.0.1", port: 0 }),
      await startEgress("egress2", { host: "127.0.0.1", port: 0 }),
    ];
    const admin: HostPort = { host: "127.0.0.1", port: freePort() };
    const standalone: HostPort = { host: "127.0.0.1", port: freePort() };
    const swapped: HostPort = { host: "127.0.0.1", port: freePort() };
    let process: Awaited<ReturnType<typeof startEnvoy>> | undefined;
    try {
      const wasmPath = join(dir, "wasmerang.wasm");
      await Deno.writeFile(wasmPath, embeddedFilter());
      const bootstrap = parse(envoyBootstrap({
        writtenBy: "shared_vm_test",
        checkCommand: "wasmerang check",
        admin: { address: admin.host, port: admin.port },
        listener: { address: standalone.host, port: standalone.port },
        configuration: "standalone",
        wasmFilename: wasmPath,
        clusters: egress.map(bootstrapCluster),
        clusterType: "STATIC",
      })) as { static_resources: { listeners: Listener[] } };
      const listeners = bootstrap.static_resources.listeners;
      assertEquals(listeners.length, 1);
      const second = structuredClone(listeners[0]);
      second.name = `${second.name}_swapped`;
      second.address.socket_address.port_value = swapped.port;
      const wasm = second.filter_chains[0].filters.find((filter) =>
        filter.name === "envoy.filters.network.wasm"
      )!;
      wasm.typed_config.config!.configuration.value = SWAPPED;
      listeners.push(second);
      const bootstrapPath = join(dir, "envoy.yaml");
      await Deno.writeTextFile(bootstrapPath, stringify(bootstrap));

      const log: string[] = [];
      process = await startEnvoy({
        envoy: envoy!,
        bootstrap: bootstrapPath,
        admin: `${admin.host}:${admin.port}`,
        concurrency: 1,
        onLog: (line) => log.push(line),
      });
      // One worker: the VMs are the same in number as with one plugin, so
      // both root contexts live in each of them.
      const vms = await adminStats(
        `${admin.host}:${admin.port}`,
        "^wasm\\.envoy\\.wasm\\.runtime\\.v8\\.active$",
      );
      assert((vms["wasm.envoy.wasm.runtime.v8.active"] ?? 0) >= 1);
      const configured = log.filter((line) =>
        line.includes("wasmerang: configured")
      );
      for (const clusters of ["egress1,egress2", "egress2,egress1"]) {
        assert(
          configured.some((line) => line.includes(`clusters=${clusters}`)),
          `configured with ${clusters}:\n${configured.join("\n")}`,
        );
      }

      const sources = Array.from({ length: 40 }, (_, i) => `127.0.3.${i + 2}`);
      for (
        const [listen, even, odd] of [
          [standalone, "egress1", "egress2"],
          [swapped, "egress2", "egress1"],
        ] as const
      ) {
        const got = await bannersFrom(listen, sources, 10);
        sources.forEach((source, i) => {
          const expected = Number(source.split(".")[3]) % 2 === 0 ? even : odd;
          assertEquals(got[i], expected, `${source} → port ${listen.port}`);
        });
      }
    } finally {
      await process?.stop();
      for (const server of egress) await server.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
