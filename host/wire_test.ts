// The host's byte decoders against plain references: protobuf varints read
// with numbers against BigInt arithmetic, short ASCII read through the cache
// against TextDecoder.
import { assertEquals } from "./testing/assert.ts";
import {
  decodeSetEnvoyFilterStateArguments,
  encodeSetEnvoyFilterStateArguments,
  TCP_PROXY_CLUSTER_KEY,
} from "./mod.ts";
import { isWellFormedProtobuf } from "./foreign.ts";
import { fromUtf8 } from "./memory.ts";

/** A varint's bytes for a value below 2^64. */
function varint(value: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, value);
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

/** The span field (3) with `value`, then a path so the message means something. */
const withSpan = (bytes: number[]) =>
  new Uint8Array([0x18, ...bytes, 0x0a, 1, 0x61]);

Deno.test("span varints decode to the low 32 bits, signed, up to ten bytes", () => {
  const cases: [bigint, number][] = [
    [0n, 0],
    [2n, 2],
    [300n, 300],
    [0x7fffffffn, 0x7fffffff],
    [0x80000000n, -0x80000000],
    [0xffffffffn, -1],
    [(1n << 32n) + 5n, 5],
    [-1n, -1],
    [-2n, -2],
    [(1n << 63n) + 7n, 7],
  ];
  for (const [value, span] of cases) {
    assertEquals(
      decodeSetEnvoyFilterStateArguments(withSpan(varint(value))),
      { path: "a", value: "", span },
      `span ${value}`,
    );
  }
});

Deno.test("malformed varints, tags and lengths are refused", () => {
  const ten = varint(-1n); // ten bytes, the last one 0x01
  const cases: [string, number[]][] = [
    ["eleven bytes", withSpanBytes([...ten.slice(0, 9), 0x81, 0x01])],
    ["a tenth byte above 1", withSpanBytes([...ten.slice(0, 9), 0x02])],
    ["a varint cut short", [0x18, 0x80]],
    ["a tag above 32 bits", [...varint(1n << 35n), 0x00]],
    ["field 0", [...varint(0n)]],
    ["a length of 2^31", [0x0a, ...varint(1n << 31n), 0x61]],
    ["a length past the end", [0x0a, 0x03, 0x61, 0x62]],
    ["a ten-byte length", [0x0a, ...varint(-1n)]],
  ];
  for (const [name, bytes] of cases) {
    assertEquals(
      decodeSetEnvoyFilterStateArguments(new Uint8Array(bytes)),
      undefined,
      name,
    );
  }
});

function withSpanBytes(bytes: number[]): number[] {
  return [0x18, ...bytes];
}

Deno.test("multi-byte lengths, skipped fields and groups parse", () => {
  const long = "egress-".repeat(40); // 280 bytes: a two-byte length
  assertEquals(
    decodeSetEnvoyFilterStateArguments(
      encodeSetEnvoyFilterStateArguments({
        path: TCP_PROXY_CLUSTER_KEY,
        value: long,
        span: 2,
      }),
    ),
    { path: TCP_PROXY_CLUSTER_KEY, value: long, span: 2 },
  );
  const skipped = [
    0x20,
    ...varint(1n << 40n), // field 4, a varint above 32 bits
    0x29,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8, // field 5, fixed64
    0x35,
    1,
    2,
    3,
    4, // field 6, fixed32
    0x3a,
    2,
    0x00,
    0xff, // field 7, bytes (not UTF-8: unknown, so not checked)
    0x43,
    0x08,
    0x01,
    0x44, // field 8, a group holding a varint
    0x0a,
    1,
    0x61,
  ];
  assertEquals(
    decodeSetEnvoyFilterStateArguments(new Uint8Array(skipped)),
    { path: "a", value: "", span: 0 },
  );
  assertEquals(isWellFormedProtobuf(new Uint8Array(skipped)), true);
  assertEquals(isWellFormedProtobuf(new Uint8Array([0x43, 0x4c])), false);
  assertEquals(isWellFormedProtobuf(new Uint8Array([0x43, 0x08])), false);
});

Deno.test("short ASCII read through the cache is exactly what TextDecoder reads", () => {
  const decoder = new TextDecoder();
  let seed = 7;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  // Far more texts than the cache has slots, each read twice, some not ASCII.
  const texts: Uint8Array[] = [];
  for (let i = 0; i < 2000; i++) {
    const bytes = new Uint8Array(random() % 70);
    for (let j = 0; j < bytes.length; j++) {
      bytes[j] = random() % (i % 10 === 0 ? 256 : 128);
    }
    texts.push(bytes);
  }
  for (const bytes of [...texts, ...texts.reverse()]) {
    assertEquals(fromUtf8(bytes), decoder.decode(bytes));
  }
});

Deno.test("new bytes where a cached text was read are read anew", () => {
  const memory = new TextEncoder().encode("..egress1..");
  assertEquals(fromUtf8(memory.subarray(2, 9)), "egress1");
  memory[8] = 0x32;
  assertEquals(fromUtf8(memory.subarray(2, 9)), "egress2");
  memory[8] = 0xff;
  assertEquals(fromUtf8(memory.subarray(2, 9)), "egress\ufffd");
  memory.set([0x63, 0x61, 0x66, 0xc3, 0xa9], 2); // "café" then "1" at 7..9 stays
  assertEquals(fromUtf8(memory.subarray(2, 7)), "café");
});
