// Connections reset right after connect are never routed from a made-up
// source: the proxy takes each peer address from accept itself, so every
// connection it logs names its real source, and reset ones leave nothing open.
import { connect } from "node:net";
import { assert, assertEquals } from "../host/testing/assert.ts";
import { embeddedFilter } from "../lib/filter_module.ts";
import { ROOT_ID } from "../lib/routing.ts";
import type { LogEntry } from "../host/mod.ts";
import { startProxy } from "./proxy.ts";
import { eventually } from "./testing.ts";

Deno.test("connections reset right after connect are logged with their real source, never a made-up one", async () => {
  const notes: LogEntry[] = [];
  const access: string[] = [];
  const proxy = await startProxy({
    listen: { host: "127.0.0.1", port: 0 },
    clusters: new Map([
      ["egress1", { host: "127.0.0.1", port: 9 }],
      ["egress2", { host: "127.0.0.1", port: 9 }],
    ]),
    defaultCluster: "egress1",
    wasm: embeddedFilter(),
    rootId: ROOT_ID,
    configuration: "standalone",
    onAccess: (line) => access.push(line),
    onFilterLog: (entry) => notes.push(entry),
  });
  try {
    const sources = Array.from({ length: 40 }, (_, i) => `127.0.3.${i + 1}`);
    const ports = new Set<string>();
    await Promise.all(sources.map((source) =>
      new Promise<void>((done) => {
        const client = connect({
          host: "127.0.0.1",
          port: proxy.address.port,
          localAddress: source,
        });
        client.on("error", () => {});
        client.on("connect", () => {
          ports.add(`${source}:${client.localPort}`);
          client.resetAndDestroy();
        });
        client.on("close", () => done());
      })
    ));
    await eventually(() => access.length === sources.length, 5000);
    await eventually(() => proxy.openSockets === 0, 5000);
    const logged = access.map((line) => /src=(\S+)/.exec(line)?.[1]);
    assertEquals(
      logged.filter((source) => !ports.has(source!)),
      [],
      "every logged source is a real client's address and port",
    );
    const decided = notes.filter((entry) => / source=/.test(entry.message));
    assert(
      decided.every((entry) =>
        ports.has(/ source=(\S+)/.exec(entry.message)![1])
      ),
      JSON.stringify(decided.slice(0, 3)),
    );
  } finally {
    await proxy.close();
  }
});
