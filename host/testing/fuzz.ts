/**
 * Fuzzing the real filter through the host: random plugin configurations and
 * random property values (source and destination addresses) and data. The
 * host may only answer with its typed errors, never crash; the filter's
 * decisions must match the TypeScript rules (lib/routing.ts) for whatever
 * either accepts; memory stays bounded. host/fuzz_test.ts runs short rounds,
 * host/fuzz_soak.ts (`deno task test:soak`) long ones; both name their seed
 * (WASMERANG_FUZZ_SEED=<n> replays a run).
 *
 * @module
 */
import assert from "node:assert/strict";
import { embeddedFilter } from "../../lib/filter_module.ts";
import {
  decideCluster,
  type FilterConfig,
  parseFilterConfig,
  ROOT_ID,
} from "../../lib/routing.ts";
import {
  ConfigurationRejectedError,
  ProxyWasmVm,
  TCP_PROXY_CLUSTER_KEY,
  WasmTrapError,
  WasmVmFailedError,
} from "../mod.ts";

/** mulberry32: a small seeded generator of numbers in [0, 1). */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

class Fuzzer {
  next: () => number;
  constructor(seed: number) {
    this.next = random(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  text(max = 24): string {
    const alphabet = "abz09.:[]{}\"',- _/\\\u00e9\u4e2d\u0000\n%";
    return Array.from({ length: this.int(max) }, () => this.pick([...alphabet]))
      .join("");
  }
  bytes(max: number): Uint8Array {
    return Uint8Array.from({ length: this.int(max) }, () => this.int(256));
  }
  /** A JSON value of any type, sometimes a plausible one. */
  value(key: string): unknown {
    switch (this.int(9)) {
      case 0:
        return this.text();
      case 1:
        return this.int(70_000) - 10;
      case 2:
        return this.next() * 100;
      case 3:
        return this.pick([true, false, null]);
      case 4:
        return Array.from({ length: this.int(4) }, () => this.text(6));
      case 5:
        return { [this.text(4)]: this.text(4) };
      case 6:
        return key === "mode"
          ? this.pick(["standalone", "istio", "Istio", ""])
          : this.text(12);
      case 7:
        return key === "clusters"
          ? [this.pick(["egress1", "a", ""]), this.pick(["egress2", "b"])]
          : this.int(65_536);
      default:
        return this.pick(["", "x", "default", "cluster.local"]);
    }
  }
  configuration(): string {
    switch (this.int(6)) {
      case 0:
        return this.pick([
          "",
          "standalone",
          "istio",
          '"istio"',
          " standalone ",
        ]);
      case 1:
        return this.text(40);
      case 2:
        return JSON.stringify(this.value("port"));
      default: {
        const keys = ["mode", "clusters", "namespace", "domain", "port"];
        if (this.int(4) === 0) keys.push(this.text(6));
        const object: Record<string, unknown> = {};
        for (const key of keys) {
          if (this.int(2) === 0) object[key] = this.value(key);
        }
        const json = JSON.stringify(object);
        return this.int(8) === 0 ? json.slice(0, this.int(json.length)) : json;
      }
    }
  }
  /** An address as a socket gives it (IPv4, IPv6, mapped; ports and octets in and out of range). */
  socketAddress(): string {
    return this.address(5);
  }
  /** An address as a socket, a careless caller or an attacker might give it. */
  address(kinds = 7): string {
    const octet = () =>
      String(this.pick([0, 1, 2, 127, 254, 255, 256, this.int(300)]));
    const port = () =>
      String(this.pick([0, 1, 80, 65535, 65536, this.int(70_000)]));
    const hex = () => this.int(0x10000).toString(16);
    switch (this.int(kinds)) {
      case 0:
        return `${octet()}.${octet()}.${octet()}.${octet()}:${port()}`;
      case 1:
        return `${octet()}.${octet()}.${octet()}.${octet()}`;
      case 2:
        return `[${Array.from({ length: 8 }, hex).join(":")}]:${port()}`;
      case 3:
        return `[::ffff:${octet()}.${octet()}.${octet()}.${octet()}]:${port()}`;
      case 4:
        return `${hex()}::${hex()}`;
      case 5:
        return this.text(64);
      default:
        return this.text(3) + "1.2.3.4:5" + this.text(3);
    }
  }
}

function parsed(text: string): FilterConfig | undefined {
  try {
    return parseFilterConfig(text);
  } catch {
    return undefined;
  }
}

/**
 * `rounds` random configurations, each loaded in a fresh VM and, when the
 * filter accepts it, given up to 20 random connections with random data.
 */
export async function fuzzThroughHost(
  seed: number,
  rounds: number,
): Promise<void> {
  const fuzz = new Fuzzer(seed);
  const module = await WebAssembly.compile(embeddedFilter());
  const where = (what: string) => `seed ${seed}: ${what}`;
  let accepted = 0;
  let connections = 0;
  for (let round = 0; round < rounds; round++) {
    const configuration = fuzz.configuration();
    const expected = parsed(configuration);
    let vm: ProxyWasmVm;
    try {
      vm = await ProxyWasmVm.load(module, {
        rootId: ROOT_ID,
        configuration,
        logCapacity: 50,
        // Other properties the host answers (plugin_name, plugin_vm_id) and
        // the VM configuration, at random too.
        pluginName: fuzz.text(),
        vmId: fuzz.text(),
        vmConfiguration: fuzz.bytes(64),
      });
    } catch (error) {
      assert.ok(
        error instanceof ConfigurationRejectedError ||
          error instanceof WasmTrapError,
        where(`configuration ${JSON.stringify(configuration)}: ${error}`),
      );
      assert.equal(
        expected,
        undefined,
        where(`the filter rejected ${JSON.stringify(configuration)}`),
      );
      continue;
    }
    assert.notEqual(
      expected,
      undefined,
      where(`the filter accepted ${JSON.stringify(configuration)}`),
    );
    accepted++;
    for (let i = 0; i < 20; i++) {
      // Any source; destinations as sockets give them, or malformed text
      // (lib/routing.ts reads a port exactly as the filter does).
      const source = fuzz.address();
      const destination = fuzz.pick([fuzz.socketAddress(), fuzz.address()]);
      try {
        const connection = vm.openConnection({
          source,
          destination,
          connectionId: fuzz.pick([
            fuzz.int(2 ** 31),
            0,
            2n ** 64n - 1n,
            BigInt(fuzz.int(2 ** 31)) * 2n ** 32n,
          ]),
        });
        connections++;
        assert.equal(
          connection.filterState.get(TCP_PROXY_CLUSTER_KEY),
          decideCluster(source, destination, expected),
          where(
            `${JSON.stringify(configuration)} from ${
              JSON.stringify(source)
            } to ${JSON.stringify(destination)}`,
          ),
        );
        const odd = vm.openConnection({ source, destination: fuzz.address() });
        odd.finish();
        connection.downstreamData(fuzz.bytes(256), fuzz.int(4) === 0);
        connection.upstreamData(fuzz.bytes(256), fuzz.int(4) === 0);
        connection.finish();
      } catch (error) {
        if (error instanceof assert.AssertionError) throw error;
        assert.ok(
          error instanceof WasmTrapError || error instanceof WasmVmFailedError,
          where(`${JSON.stringify(source)}: ${error}`),
        );
        break; // a failed VM is replaced, as the proxy does
      }
    }
    vm.close();
  }
  assert.ok(
    accepted > rounds * 0.075 && connections > rounds * 1.5,
    where(`the run did work: ${accepted} accepted, ${connections} connections`),
  );
}

/** `connections` random connections on one VM keep its memory bounded. */
export async function fuzzMemory(
  seed: number,
  connections: number,
): Promise<void> {
  const fuzz = new Fuzzer(seed + 1);
  const vm = await ProxyWasmVm.load(embeddedFilter(), {
    rootId: ROOT_ID,
    configuration: "istio",
    logCapacity: 50,
  });
  const run = (count: number) => {
    for (let i = 0; i < count; i++) {
      const connection = vm.openConnection({
        source: fuzz.address(),
        destination: fuzz.address(),
      });
      connection.downstreamData(fuzz.bytes(2048));
      connection.upstreamData(fuzz.bytes(2048), true);
      connection.closeDownstream(fuzz.pick(["local", "remote"]));
    }
  };
  run(1000);
  const before = vm.memoryBytes();
  run(connections - 1000);
  const after = vm.memoryBytes();
  assert.equal(vm.failure, undefined);
  assert.ok(
    after - before <= 128 * 1024,
    `seed ${seed}: wasm memory ${before} → ${after} bytes`,
  );
  vm.close();
}
