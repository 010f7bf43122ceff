// A connection whose peer address is gone by the time the proxy reads it (a
// reset right after accept) is dropped and logged, never routed as `:0`.
import { connect, Socket } from "node:net";
import { assert, assertEquals } from "../host/testing/assert.ts";
import { embeddedFilter } from "../lib/filter_module.ts";
import { ROOT_ID } from "../lib/routing.ts";
import type { LogEntry } from "../host/mod.ts";
import { startProxy } from "./proxy.ts";

Deno.test("a connection without a peer address is dropped and logged, not routed", async () => {
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
  // What a socket reports once its peer reset: no remote address. Only
  // accepted sockets (those with a server) are made to say so.
  type Peer = Socket & {
    server?: unknown;
    _getpeername(): { address?: string; port?: number };
  };
  const prototype = Socket.prototype as unknown as Peer;
  const original = prototype._getpeername;
  prototype._getpeername = function (this: Peer) {
    return this.server ? {} : original.call(this);
  };
  try {
    const client = connect({ host: "127.0.0.1", port: proxy.address.port });
    const received: string[] = [];
    client.on("data", (chunk) => received.push(String(chunk)));
    client.on("error", () => {});
    await new Promise((done) => client.once("close", done));
    assertEquals(received, []);
    assert(
      notes.some((entry) =>
        entry.level === "warn" &&
        /reset before its peer address could be read: dropped, not routed/
          .test(entry.message)
      ),
      JSON.stringify(notes),
    );
    assertEquals(access, []);
  } finally {
    prototype._getpeername = original;
    await proxy.close();
  }
});
