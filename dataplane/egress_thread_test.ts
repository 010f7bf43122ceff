import assert from "node:assert/strict";
import { startEgressThread } from "./egress_thread.ts";
import { converse } from "./testing.ts";

const ANY_PORT = { host: "127.0.0.1", port: 0 };

Deno.test("an egress on its own thread answers with its name, echoes, and stops on close", async () => {
  const egress = await startEgressThread("egress2", ANY_PORT);
  try {
    assert.notEqual(egress.address.port, 0);
    const seen = await converse(egress.address, "127.0.0.1", "hello\n");
    assert.equal(seen.text, "egress2\nhello\n");
    assert.ok(seen.ended, "the echo ends with the client's half-close");
  } finally {
    await egress.close();
  }
  const after = await converse(egress.address, "127.0.0.1");
  assert.equal(after.text, "");
  assert.ok(after.error, "nothing listens after close");
});

Deno.test("an egress thread whose port is taken fails with the listener's one-line error", async () => {
  const first = await startEgressThread("egress1", ANY_PORT);
  try {
    await assert.rejects(
      startEgressThread("egress1", first.address),
      /egress1: 127\.0\.0\.1:\d+ is already in use/,
    );
  } finally {
    await first.close();
  }
});
