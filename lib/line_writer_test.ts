import assert from "node:assert/strict";
import { LineWriter } from "./line_writer.ts";

/** A sink that records each write, optionally accepting only a few bytes per call. */
function recordingSink(bytesPerCall = Infinity) {
  const writes: string[] = [];
  const decoder = new TextDecoder();
  return {
    writes,
    writeSync(bytes: Uint8Array): number {
      const taken = bytes.subarray(0, Math.min(bytes.length, bytesPerCall));
      writes.push(decoder.decode(taken));
      return taken.length;
    },
  };
}

Deno.test("lines are written together once the batch waits long enough", async () => {
  const sink = recordingSink();
  const writer = new LineWriter(sink, 20);
  writer.write("one");
  writer.write("two");
  writer.write("three");
  assert.deepEqual(sink.writes, []);
  await new Promise((done) => setTimeout(done, 60));
  assert.deepEqual(sink.writes, ["one\ntwo\nthree\n"]);
});

Deno.test("a full batch is written at once, and flush writes the rest", () => {
  const sink = recordingSink();
  const writer = new LineWriter(sink, 10_000, 10);
  writer.write("12345");
  writer.write("67890");
  assert.deepEqual(sink.writes, ["12345\n67890\n"]);
  writer.write("tail");
  writer.flush();
  assert.deepEqual(sink.writes, ["12345\n67890\n", "tail\n"]);
});

Deno.test("a sink that takes a few bytes at a time still gets every byte", () => {
  const sink = recordingSink(3);
  const writer = new LineWriter(sink);
  writer.write("abcdefgh");
  writer.flush();
  assert.equal(sink.writes.join(""), "abcdefgh\n");
  assert.equal(sink.writes.length, 3);
});
