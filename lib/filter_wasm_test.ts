// The flagship filter, proven on the real .wasm through the project's own proxy-wasm host.
import assert from "node:assert/strict";
import {
  ConfigurationRejectedError,
  type LogLevel,
  ProxyWasmVm,
} from "../host/mod.ts";
import { embeddedFilter } from "./filter_module.ts";
import {
  decideCluster,
  parseFilterConfig,
  ROOT_ID,
  sourceParity,
  TCP_PROXY_CLUSTER_KEY,
} from "./routing.ts";
import { FUZZ_SEED } from "../testing/fuzz_seed.ts";

const ISTIO_EGRESS1 = "outbound|443||egress1.default.svc.cluster.local";
const ISTIO_EGRESS2 = "outbound|443||egress2.default.svc.cluster.local";

/** The filter in a fresh VM; the host's log level decides whether decision lines are written. */
function vm(
  configuration: string,
  logLevel: LogLevel = "info",
): Promise<ProxyWasmVm> {
  return ProxyWasmVm.load(embeddedFilter(), {
    rootId: ROOT_ID,
    configuration,
    logLevel,
  });
}

/** Opens, decides and closes one connection; returns the cluster and its log lines. */
function decide(
  filter: ProxyWasmVm,
  source: string,
  destination = "10.96.0.1:443",
) {
  const connection = filter.openConnection({ source, destination });
  connection.finish();
  return {
    cluster: connection.filterState.get(TCP_PROXY_CLUSTER_KEY),
    logs: connection.logs,
  };
}

const table: [string, string, string, string | undefined][] = [
  // configuration, source, destination, expected cluster
  ["standalone", "10.0.0.2", "10.96.0.1:443", "egress1"],
  ["standalone", "10.0.0.3", "10.96.0.1:443", "egress2"],
  ["standalone", "10.0.0.2:5555", "10.96.0.1:443", "egress1"],
  ["standalone", "10.0.0.255:5555", "10.96.0.1:443", "egress2"],
  ["standalone", "192.168.1.0:1", "10.96.0.1:443", "egress1"],
  ["standalone", "[::ffff:10.0.0.4]:80", "10.96.0.1:443", "egress1"],
  ["standalone", "[::ffff:10.0.0.5]:80", "10.96.0.1:443", "egress2"],
  ["standalone", "::ffff:10.0.0.7", "10.96.0.1:443", "egress2"],
  ["standalone", "[2001:db8::2]:9000", "10.96.0.1:443", "egress1"],
  ["standalone", "[2001:db8::ff]:9000", "10.96.0.1:443", "egress2"],
  ["standalone", "fe80::1:a", "10.96.0.1:443", "egress1"],
  ["standalone", "[::1]:80", "10.96.0.1:443", "egress2"],
  ["standalone", "[::]:80", "10.96.0.1:443", "egress1"],
  ["istio", "10.0.0.2:5555", "10.96.0.1:443", ISTIO_EGRESS1],
  ["istio", "10.0.0.3:5555", "10.96.0.1:443", ISTIO_EGRESS2],
  [
    "istio",
    "10.244.0.7:41000",
    "10.96.12.9:8080",
    "outbound|8080||egress2.default.svc.cluster.local",
  ],
  [
    "istio",
    "[fd00::4]:41000",
    "[fd00::1]:9090",
    "outbound|9090||egress1.default.svc.cluster.local",
  ],
  ['"istio"', "10.0.0.2:5555", "10.96.0.1:443", ISTIO_EGRESS1],
  ["", "10.0.0.3", "10.96.0.1:443", "egress2"],
  [
    '{"mode":"istio","clusters":["blue","green"],"namespace":"shop","domain":"corp.local","port":8080}',
    "10.0.0.3:1",
    "10.96.0.1:443",
    "outbound|8080||green.shop.svc.corp.local",
  ],
  [
    '{"clusters":["even-pool","odd-pool"]}',
    "10.0.0.8:1",
    "10.96.0.1:443",
    "even-pool",
  ],
  [
    '{"mode":"istio"}',
    "10.0.0.1:1",
    "10.96.0.1:15006",
    "outbound|15006||egress2.default.svc.cluster.local",
  ],
];

Deno.test("the filter routes each source by the parity of its address, one debug line each", async (t) => {
  const vms = new Map<string, ProxyWasmVm>();
  for (const [configuration, source, destination, expected] of table) {
    await t.step(
      `${configuration || "(empty)"}: ${source} → ${expected}`,
      async () => {
        if (!vms.has(configuration)) {
          vms.set(configuration, await vm(configuration, "debug"));
        }
        const { cluster, logs } = decide(
          vms.get(configuration)!,
          source,
          destination,
        );
        assert.equal(cluster, expected);
        assert.equal(
          decideCluster(source, destination, parseFilterConfig(configuration)),
          expected,
        );
        assert.deepEqual(
          logs.map((entry) => `${entry.level} ${entry.message}`),
          [
            `debug wasmerang: connection ${
              logs[0]?.contextId
            } source=${source} destination=${destination} -> ${expected} (${
              ["even", "odd"][sourceParity(source)!]
            }, set_envoy_filter_state Ok)`,
          ],
          "one debug line names the decision",
        );
      },
    );
  }
});

Deno.test("at the host's info level no decision line is written; routing and counters are the same as at debug", async () => {
  const configurations = [
    "standalone",
    "istio",
    '{"mode":"istio","port":8080}',
  ];
  for (const configuration of configurations) {
    const quiet = await vm(configuration, "info");
    const verbose = await vm(configuration, "debug");
    for (const [, source, destination] of table) {
      const atInfo = decide(quiet, source, destination);
      const atDebug = decide(verbose, source, destination);
      assert.equal(atInfo.cluster, atDebug.cluster, source);
      assert.equal(
        atInfo.cluster,
        decideCluster(source, destination, parseFilterConfig(configuration)),
      );
      assert.deepEqual(atInfo.logs, [], `${configuration} ${source}`);
      assert.equal(atDebug.logs.length, 1);
    }
    assert.deepEqual(quiet.metrics(), verbose.metrics());
    assert.ok(
      Object.values(quiet.metrics()).reduce((a, b) => a + b, 0) ===
        table.length,
    );
    // The configured line and warnings stay at their levels.
    assert.deepEqual(
      quiet.logs.map((entry) => entry.level),
      ["info"],
      JSON.stringify(quiet.logs),
    );
    const warned = decide(quiet, "not-an-ip");
    assert.deepEqual(warned.logs.map((entry) => entry.level), ["warn"]);
  }
});

Deno.test("an unparseable source gets no override, one warning and one metric", async (t) => {
  const filter = await vm("istio");
  for (
    const source of [
      "garbage",
      "",
      "10.0.0",
      "10.0.0.256:1",
      "10.0.0.1:99999",
      "[::1",
      "1::2::3",
      "::ffff:1.2.3",
    ]
  ) {
    await t.step(JSON.stringify(source), () => {
      const before = filter.metrics()["wasmerang.unparseable_source"] ?? 0;
      const { cluster, logs } = decide(filter, source);
      assert.equal(cluster, undefined);
      const warnings = logs.filter((entry) => entry.level === "warn");
      assert.equal(warnings.length, 1);
      assert.match(warnings[0].message, /no override/);
      assert.equal(
        filter.metrics()["wasmerang.unparseable_source"],
        before + 1,
      );
    });
  }
});

Deno.test("each egress has its own counter", async () => {
  const filter = await vm("standalone");
  for (const source of ["10.0.0.2", "10.0.0.4", "10.0.0.5"]) {
    decide(filter, source);
  }
  assert.equal(filter.metrics()["wasmerang.routed.egress1"], 2);
  assert.equal(filter.metrics()["wasmerang.routed.egress2"], 1);
});

Deno.test("a configuration the filter cannot use is rejected with its reason", async (t) => {
  const cases: [string, RegExp][] = [
    [
      "kubernetes",
      /invalid configuration "kubernetes": expected "standalone", "istio" or a JSON object/,
    ],
    ['{"mode":"mesh"}', /"mode" must be "standalone" or "istio"/],
    ['{"clusters":["only-one"]}', /"clusters" must be two non-empty strings/],
    ['{"port":70000}', /"port" must be an integer from 1 to 65535/],
    ['{"colour":"blue"}', /unknown key "colour"/],
    ['{"mode":"istio",', /not valid JSON/],
  ];
  for (const [configuration, reason] of cases) {
    await t.step(configuration, async () => {
      await assert.rejects(vm(configuration), (error: Error) => {
        assert.ok(error instanceof ConfigurationRejectedError);
        assert.match(error.message, reason);
        return true;
      });
      assert.throws(() => parseFilterConfig(configuration), reason);
    });
  }
});

Deno.test(`10,000 random source strings never trap and agree with the TypeScript rule (seed ${FUZZ_SEED})`, async () => {
  const filter = await vm("standalone");
  const alphabet = "0123456789abcdef.:[]%/ f-";
  let seed = FUZZ_SEED;
  const random = () =>
    (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < 10_000; i++) {
    const length = Math.floor(random() * 24);
    const source = i % 3 === 0
      ? `${Math.floor(random() * 300)}.${Math.floor(random() * 300)}.0.${
        Math.floor(random() * 300)
      }:${i}`
      : Array.from(
        { length },
        () => alphabet[Math.floor(random() * alphabet.length)],
      ).join("");
    const { cluster } = decide(filter, source);
    const parity = sourceParity(source);
    assert.equal(
      cluster,
      parity === undefined ? undefined : ["egress1", "egress2"][parity],
      `seed ${FUZZ_SEED}: ${source}`,
    );
  }
});

Deno.test("addresses longer than the filter's 256-byte read buffer are read whole, and their memory is given back", async () => {
  const filter = await vm("istio", "debug");
  const lengths = [255, 256, 257, 1000];
  const read = (i: number) => {
    const length = lengths[i % lengths.length];
    const source = `10.0.0.${i % 10}${"x".repeat(length - 8)}`;
    const destination = `10.96.0.1:${"9".repeat(length - 10)}`;
    const { cluster, logs } = decide(filter, source, destination);
    assert.equal(cluster, undefined);
    assert.equal(logs.length, 1);
    assert.equal(
      logs[0].message,
      `wasmerang: connection ${
        logs[0].contextId
      } source=${source} destination=${destination} -> no override (source is not an IP address)`,
    );
  };
  for (let i = 0; i < 100; i++) read(i);
  const warm = filter.memoryBytes();
  for (let i = 0; i < 2_000; i++) read(i);
  assert.equal(filter.memoryBytes(), warm);
  // A short read after long ones still lands in the buffer and decides.
  assert.equal(decide(filter, "10.0.0.4:1").cluster, ISTIO_EGRESS1);
});

// 100,000 of them: lib/filter_wasm_soak.ts (`deno task test:soak`).
Deno.test("10,000 connections leave the module's memory where warm-up left it", async () => {
  const filter = await vm("istio");
  const connect = (i: number) =>
    decide(
      filter,
      `10.${i & 255}.${(i >> 8) & 255}.${i % 251}:${1024 + (i % 60000)}`,
    );
  for (let i = 0; i < 1_000; i++) connect(i);
  const warm = filter.memoryBytes();
  for (let i = 0; i < 10_000; i++) connect(i);
  assert.equal(filter.memoryBytes(), warm);
});

Deno.test("at debug, 10,000 connections to changing ports leave the memory where warm-up left it", async () => {
  const filter = await vm("istio", "debug");
  const connect = (i: number) =>
    decide(
      filter,
      `10.${i & 255}.${(i >> 8) & 255}.${i % 251}:${1024 + (i % 60000)}`,
      `10.96.0.1:${1 + (i * 7919) % 65535}`,
    );
  for (let i = 0; i < 1_000; i++) connect(i);
  const warm = filter.memoryBytes();
  for (let i = 0; i < 10_000; i++) connect(i);
  assert.equal(filter.memoryBytes(), warm);
});

Deno.test(`at debug, 5,000 random sources and destinations (Istio names) never trap and agree with the TypeScript rule (seed ${FUZZ_SEED})`, async () => {
  const filter = await vm("istio", "debug");
  const config = parseFilterConfig("istio");
  const alphabet = "0123456789abcdef.:[]%/ f-";
  let seed = FUZZ_SEED + 7;
  const random = () =>
    (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const text = () =>
    Array.from(
      { length: Math.floor(random() * 24) },
      () => alphabet[Math.floor(random() * alphabet.length)],
    ).join("");
  const port = () => Math.floor(random() * 70000);
  for (let i = 0; i < 5_000; i++) {
    const source = i % 2 === 0
      ? `10.0.${Math.floor(random() * 300)}.${Math.floor(random() * 300)}:${i}`
      : text();
    const destination = [
      `10.96.0.1:${port()}`,
      `[fd00::1]:${port()}`,
      text(),
      "",
    ][i % 4];
    const { cluster, logs } = decide(filter, source, destination);
    assert.equal(
      cluster,
      decideCluster(source, destination, config),
      `seed ${FUZZ_SEED}: ${source} to ${destination}`,
    );
    assert.equal(logs.length, 1);
  }
});
