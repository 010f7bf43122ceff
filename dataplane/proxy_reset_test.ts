// A connection reset while it waits to be accepted has no peer address any
// more: it is dropped and logged, never routed from a made-up source.
import { assert, assertEquals } from "../host/testing/assert.ts";
import { embeddedFilter } from "../lib/filter_module.ts";
import { ROOT_ID } from "../lib/routing.ts";
import type { LogEntry } from "../host/mod.ts";
import { startProxy } from "./proxy.ts";
import { eventually } from "./testing.ts";

const WARNING =
  /reset before its peer address could be read: dropped, not routed/;

Deno.test("a connection reset before it is accepted is dropped and logged, not routed", async () => {
  const notes: LogEntry[] = [];
  const access: string[] = [];
  const proxy = await startProxy({
    listen: { host: "127.0.0.1", port: 0 },
    clusters: new Map([["egress1", { host: "127.0.0.1", port: 9 }]]),
    defaultCluster: "egress1",
    wasm: embeddedFilter(),
    rootId: ROOT_ID,
    configuration: "standalone",
    onAccess: (line) => access.push(line),
    onFilterLog: (entry) => notes.push(entry),
  });
  try {
    // Another process connects and resets while this one is blocked (a
    // synchronous call), so the connection is reset in the listen queue,
    // before the proxy accepts it.
    const client = `import { connect } from "node:net";
      const socket = connect({ host: "127.0.0.1", port: ${proxy.address.port}, localAddress: "127.0.0.77" });
      socket.on("error", () => {});
      socket.on("connect", () => socket.resetAndDestroy());`;
    const ran = new Deno.Command(Deno.execPath(), {
      args: ["eval", client],
      stdout: "null",
      stderr: "piped",
    }).outputSync();
    assert(ran.success, new TextDecoder().decode(ran.stderr));
    await eventually(
      () => notes.some((entry) => WARNING.test(entry.message)),
      5000,
    );
    assertEquals(
      notes.filter((entry) => entry.level === "warn").length,
      1,
      JSON.stringify(notes),
    );
    assertEquals(access, [], "nothing was routed or logged as a connection");
    assertEquals(proxy.openSockets, 0);
  } finally {
    await proxy.close();
  }
});
