import { assert, assertEquals } from "../../host/testing/assert.ts";
import { startTestPlane, testEnvoy } from "../../testing/envoy.ts";
import { bannerFrom } from "../../testing/envoy.ts";
import { formatHostPort } from "../address.ts";
import { adminReady, filterCounters } from "./admin.ts";

Deno.test("admin client against a real Envoy: /ready is 200 over HTTP/1.1 (HTTP/1.0 gets 426), the filter's counters read back", async () => {
  if (!await testEnvoy()) return;
  const plane = await startTestPlane({ config: "standalone" });
  try {
    const admin = formatHostPort(plane.admin.host, plane.admin.port);
    assert(await adminReady(admin), "ready");
    // Why the client speaks HTTP/1.1: Envoy's admin refuses HTTP/1.0.
    const connection = await Deno.connect({
      hostname: plane.admin.host,
      port: plane.admin.port,
    });
    await connection.write(
      new TextEncoder().encode("GET /ready HTTP/1.0\r\n\r\n"),
    );
    const buffer = new Uint8Array(64);
    const count = await connection.read(buffer) ?? 0;
    connection.close();
    assertEquals(
      new TextDecoder().decode(buffer.subarray(0, count)).split("\r\n")[0],
      "HTTP/1.1 426 Upgrade Required",
    );
    assertEquals(await bannerFrom(plane.listen, "127.0.0.12"), "egress1");
    assertEquals(await bannerFrom(plane.listen, "127.0.0.13"), "egress2");
    const counters = await filterCounters(admin);
    assertEquals(counters["wasmerang.routed.egress1"], 1);
    assertEquals(counters["wasmerang.routed.egress2"], 1);
  } finally {
    await plane.close();
  }
});

Deno.test("admin client: a closed port and a listener that never answers are 'not ready' within the timeout", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closedPort = closed.addr.port;
  closed.close();
  assertEquals(await adminReady(`127.0.0.1:${closedPort}`), false);
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const connection of silent) held.push(connection);
  })();
  try {
    const started = performance.now();
    assertEquals(
      await adminReady(`127.0.0.1:${silent.addr.port}`, 300),
      false,
    );
    assert(performance.now() - started < 2000, "bounded by the timeout");
  } finally {
    silent.close();
    for (const connection of held) connection.close();
    await accepting.catch(() => {});
  }
});
