import { assertEquals } from "../host/testing/assert.ts";
import { functionKey, parseCallgrind } from "./callgrind_format.ts";
import { objectDifferences, topDifferences } from "./instructions.ts";

// A dump in callgrind's own shape: compressed names defined on first use
// (also on a call), relative positions, a call line whose cost is inclusive.
const DUMP = `# callgrind format
version: 1
positions: line
events: Ir
summary: 175

ob=(1) /usr/bin/envoy
fl=(1) ???
fn=(1) 0x0000000000001000
0 10
+2 5
cob=(2) /usr/lib/libc.so.6
cfi=(2) memcpy.S
cfn=(2) memcpy
calls=3 0
* 60
fn=(3) 0x0000000000002000
0 40

ob=(2)
fl=(2)
fn=(2)
0 60
ob=(3) ???
fl=(1)
fn=(4) 0x00000000deadbeef
-1 0
0 0
`;

Deno.test("parseCallgrind reads self and inclusive costs through compressed names", () => {
  const profile = parseCallgrind(DUMP);
  assertEquals(profile.total, 175);
  const envoy = (name: string) => functionKey("/usr/bin/envoy", name);
  assertEquals(profile.self.get(envoy("0x0000000000001000")), 15);
  assertEquals(profile.inclusive.get(envoy("0x0000000000001000")), 75);
  assertEquals(profile.self.get(envoy("0x0000000000002000")), 40);
  assertEquals(
    profile.self.get(functionKey("/usr/lib/libc.so.6", "memcpy")),
    60,
  );
  assertEquals(profile.self.get(functionKey("???", "0x00000000deadbeef")), 0);
  // Without a summary line, the total is the sum of the self costs.
  assertEquals(parseCallgrind(DUMP.replace("summary: 175\n", "")).total, 115);
});

Deno.test("the differences name the functions and objects behind an extra, biggest first", () => {
  const native = new Map([["envoy|a", 100], ["envoy|b", 50], ["libc|m", 10]]);
  const filter = new Map([
    ["envoy|a", 100],
    ["envoy|b", 80],
    ["libc|m", 15],
    ["???|0x1", 200],
  ]);
  assertEquals(topDifferences(native, filter, 3), [
    { key: "???|0x1", from: 0, to: 200, extra: 200 },
    { key: "envoy|b", from: 50, to: 80, extra: 30 },
    { key: "libc|m", from: 10, to: 15, extra: 5 },
  ]);
  assertEquals(objectDifferences(native, filter), [
    { object: "???", extra: 200 },
    { object: "envoy", extra: 30 },
    { object: "libc", extra: 5 },
  ]);
});
