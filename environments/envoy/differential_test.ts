/**
 * Our host against Envoy: the same 500 random loopback sources through the
 * local data plane (`up local`'s) and through a real Envoy must reach the same
 * egress and produce the same filter log lines, ids, ports and timestamps
 * aside, both at debug (our host's log level, Envoy's `wasm:debug`), where the
 * filter writes one line per connection. At info both write none, and route
 * and count the same. And 1,000 connections through Envoy, 50 at a time, with
 * no misroute.
 */
import { assert, assertEquals } from "../../host/testing/assert.ts";
import { decideCluster } from "../../lib/routing.ts";
import { testPlane } from "../../dataplane/testing.ts";
import type { EnvoyPlane } from "./plane.ts";
import { filterLogMessage } from "../../lib/envoy/process.ts";
import {
  bannerFrom,
  bannersFrom,
  randomSources,
  startTestPlane,
  testEnvoy,
} from "../../testing/envoy.ts";

const envoy = await testEnvoy();

async function envoyPlane(
  config = "standalone",
  wasmLogLevel: "debug" | "info" = "debug",
): Promise<EnvoyPlane> {
  return await startTestPlane({ config, wasmLogLevel });
}

/** Envoy's filter lines, level first (as `testPlane` collects ours), normalized. */
function envoyFilterLines(plane: EnvoyPlane): string[] {
  return plane.envoy.log.map(filterLogMessage)
    .filter((entry) => entry !== undefined)
    .map((entry) => normalize(`${envoyLevel(entry!.level)} ${entry!.message}`));
}

/**
 * A filter log line without what differs between two runs by nature: the
 * per-VM connection id, the ephemeral source port and the listener's port.
 */
function normalize(line: string): string {
  return line
    .replace(/\bconnection \d+/g, "connection #")
    .replace(/(source=[0-9.]+):\d+/g, "$1:*")
    .replace(/(destination=[0-9.]+):\d+/g, "$1:*");
}

/** Envoy names the warn level `warning`; our host uses proxy-wasm's `warn`. */
function envoyLevel(level: string): string {
  return level === "warning" ? "warn" : level;
}

/** Waits until `lines()` has at least `count` entries (logs arrive asynchronously). */
async function atLeast(
  lines: () => string[],
  count: number,
): Promise<string[]> {
  const deadline = Date.now() + 10_000;
  while (lines().length < count && Date.now() < deadline) {
    await new Promise((done) => setTimeout(done, 20));
  }
  return lines();
}

for (
  const [count, config, configured] of [
    [
      500,
      "standalone",
      "configured mode=standalone clusters=egress1,egress2",
    ],
    [
      200,
      '{"clusters":["blue","green"]}',
      "configured mode=standalone clusters=blue,green",
    ],
  ] as const
) {
  Deno.test({
    name:
      `differential (${config}): ${count} random loopback sources, our host and Envoy agree on every egress and log line`,
    ignore: envoy === undefined,
    fn: () => differential(count, config, configured),
  });
}

async function differential(
  count: number,
  config: string,
  configured: string,
): Promise<void> {
  const sources = randomSources(count);
  const local = await testPlane({ config, logLevel: "debug" });
  let localGot: (string | null)[];
  try {
    localGot = await bannersFrom(local.plane.listen, sources);
  } finally {
    await local.plane.close();
  }
  const localLines = local.filter.map(normalize);

  const plane = await envoyPlane(config, "debug");
  let envoyGot: (string | null)[];
  try {
    envoyGot = await bannersFrom(plane.listen, sources);
    const decisions = () =>
      plane.envoy.log.map(filterLogMessage).filter((entry) =>
        entry?.message.includes(" source=")
      );
    await atLeast(() => decisions() as never[], sources.length);
  } finally {
    await plane.close();
  }
  // Read after both stopped: the lines a plugin writes at shutdown count too.
  const envoyLines = envoyFilterLines(plane);

  // Same egress for every source, and it is the rule's.
  const differing = sources.filter((_, i) => localGot[i] !== envoyGot[i]);
  assertEquals(differing, [], "sources whose egress differs");
  sources.forEach((source, i) =>
    assertEquals(
      envoyGot[i],
      decideCluster(`${source}:1`, undefined, plane.config),
      source,
    )
  );

  // Per-connection lines: the same multiset. Other lines (configure, and at
  // debug the SDK's own about the root context): Envoy runs configure once
  // per VM (a canary VM, the main thread's, each worker's), our host once;
  // the distinct lines must be the same.
  const perConnection = (lines: string[]) =>
    lines.filter((line) => line.includes("connection #")).sort();
  const other = (lines: string[]) =>
    [...new Set(lines.filter((line) => !line.includes("connection #")))]
      .sort();
  assertEquals(perConnection(envoyLines), perConnection(localLines));
  assertEquals(perConnection(envoyLines).length, sources.length);
  assertEquals(other(envoyLines), other(localLines));
  assertEquals(
    other(localLines).filter((line) => !line.startsWith("debug ")),
    [`info wasmerang: ${configured}`],
  );
}

Deno.test({
  name:
    "at info (our host's default, Envoy's wasm:info) neither writes a decision line; egress and counters are the same",
  ignore: envoy === undefined,
  async fn() {
    const sources = randomSources(100);
    const local = await testPlane({ logLevel: "info" });
    let localGot: (string | null)[];
    try {
      localGot = await bannersFrom(local.plane.listen, sources);
    } finally {
      await local.plane.close();
    }
    const plane = await envoyPlane("standalone", "info");
    let envoyGot: (string | null)[];
    let counters: Record<string, number>;
    try {
      envoyGot = await bannersFrom(plane.listen, sources);
      counters = await plane.counters();
      // Envoy's log is written asynchronously: give a decision line time to show.
      await new Promise((done) => setTimeout(done, 500));
    } finally {
      await plane.close();
    }
    const expected = sources.map((source) =>
      decideCluster(`${source}:1`, undefined)!
    );
    assertEquals(localGot, expected);
    assertEquals(envoyGot, expected);
    const even = expected.filter((cluster) => cluster === "egress1").length;
    assertEquals(counters, {
      "wasmerang.filter_state_failed": 0,
      "wasmerang.routed.egress1": even,
      "wasmerang.routed.egress2": sources.length - even,
      "wasmerang.unparseable_source": 0,
    });
    const configuredOnly = [
      "info wasmerang: configured mode=standalone clusters=egress1,egress2",
    ];
    assertEquals([...new Set(local.filter)], configuredOnly);
    assertEquals([...new Set(envoyFilterLines(plane))], configuredOnly);
  },
});

Deno.test({
  name:
    "the operator's switch: admin POST /logging?wasm=debug on a running Envoy brings the decision lines (the filter asks the level every second)",
  ignore: envoy === undefined,
  async fn() {
    const plane = await envoyPlane("standalone", "info");
    try {
      const decisions = () =>
        envoyFilterLines(plane).filter((line) => line.includes("connection #"));
      assertEquals(await bannerFrom(plane.listen, "127.0.0.10"), "egress1");
      const admin = `http://127.0.0.1:${plane.admin.port}`;
      const raised = await fetch(`${admin}/logging?wasm=debug`, {
        method: "POST",
      });
      await raised.body?.cancel();
      assertEquals(raised.status, 200);
      // Within the filter's one-second period (and a margin), connections show.
      const deadline = Date.now() + 5000;
      while (decisions().length === 0 && Date.now() < deadline) {
        assertEquals(await bannerFrom(plane.listen, "127.0.0.11"), "egress2");
        await new Promise((done) => setTimeout(done, 200));
      }
      assertEquals(
        decisions()[0],
        "debug wasmerang: connection # source=127.0.0.11:* destination=127.0.0.1:* -> egress2 (odd, set_envoy_filter_state Ok)",
      );
      assert(
        !decisions().some((line) => line.includes("source=127.0.0.10:")),
        "no line for the connection made at info",
      );
    } finally {
      await plane.close();
    }
  },
});

Deno.test({
  name:
    "Envoy: 1,000 connections, 50 at a time, zero misroutes, counters add up",
  ignore: envoy === undefined,
  async fn() {
    const plane = await envoyPlane();
    try {
      const sources = Array.from(
        { length: 1000 },
        () => randomSources(1)[0],
      );
      const got = await bannersFrom(plane.listen, sources, 50, 10_000);
      const misrouted = sources.filter((source, i) =>
        got[i] !== decideCluster(`${source}:1`, undefined)
      );
      assertEquals(misrouted, []);
      const counters = await plane.counters();
      const even = sources.filter((s) => Number(s.split(".")[3]) % 2 === 0)
        .length;
      assertEquals(counters["wasmerang.routed.egress1"], even);
      assertEquals(counters["wasmerang.routed.egress2"], 1000 - even);
      assertEquals(counters["wasmerang.unparseable_source"], 0);
      assertEquals(counters["wasmerang.filter_state_failed"], 0);
    } finally {
      await plane.close();
    }
  },
});
