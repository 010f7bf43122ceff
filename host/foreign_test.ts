import { inflateSync } from "node:zlib";
import { assertEquals } from "./testing/assert.ts";
import {
  decodeSetEnvoyFilterStateArguments,
  encodeSetEnvoyFilterStateArguments,
  ProxyWasmVm,
  SET_ENVOY_FILTER_STATE,
  TCP_PROXY_CLUSTER_KEY as CLUSTER,
  WasmResult,
} from "./mod.ts";
import { hex, TestModule } from "./testing/wat.ts";

const ROOT = "foreign-root";

/** Calls foreign function `name` with the VM configuration as arguments, in the root and in a connection. */
async function foreignModule(name: string): Promise<Uint8Array> {
  const m = new TestModule("0_2_0").import("proxy_get_buffer_bytes").import(
    "proxy_call_foreign_function",
  );
  const call = (tag: string) => `
    (i32.store (i32.const 72) (i32.const 0))
    (i32.store (i32.const 76) (i32.const 0))
    (drop (call $proxy_get_buffer_bytes (i32.const 6) (i32.const 0) (i32.const 4096) (i32.const 64) (i32.const 68)))
    (call $report ${m.str(tag)}
      (call $proxy_call_foreign_function ${m.str(name)}
        (i32.load (i32.const 64)) (i32.load (i32.const 68)) (i32.const 72) (i32.const 76))
      (i32.load (i32.const 72)) (i32.load (i32.const 76)))`;
  m.body(`
    (func (export "proxy_on_configure") (param i32 i32) (result i32) ${
    call("root")
  } (i32.const 1))
    (func (export "proxy_on_new_connection") (param i32) (result i32) ${
    call("conn")
  } (i32.const 0))`);
  return await m.build();
}

async function callIn(wasm: Uint8Array, args: Uint8Array) {
  const vm = await ProxyWasmVm.load(wasm, {
    rootId: ROOT,
    vmConfiguration: args,
  });
  const connection = vm.openConnection({
    source: "10.0.0.2:1",
    destination: "10.0.0.1:2",
  });
  return {
    root: vm.logs[0].message.trimEnd(),
    conn: connection.logs[0].message.trimEnd(),
    filterState: new Map(connection.filterState),
  };
}

Deno.test("set_envoy_filter_state stores a known key in the connection's filter state", async () => {
  const wasm = await foreignModule(SET_ENVOY_FILTER_STATE);
  const args = encodeSetEnvoyFilterStateArguments({
    path: CLUSTER,
    value: "egress2",
    span: 2,
  });
  const { root, conn, filterState } = await callIn(wasm, args);
  assertEquals(conn, "conn 0");
  assertEquals(filterState, new Map([[CLUSTER, "egress2"]]));
  assertEquals(root, "root 1", "no connection in the root context: NotFound");
});

Deno.test("set_envoy_filter_state answers like Envoy for each kind of argument", async () => {
  const wasm = await foreignModule(SET_ENVOY_FILTER_STATE);
  const encode = (path: string, value: string) =>
    encodeSetEnvoyFilterStateArguments({ path, value, span: 0 });
  const cases: [string, Uint8Array, number][] = [
    ["unknown key", encode("my.own.key", "x"), WasmResult.NotFound],
    [
      "truncated bytes",
      new Uint8Array([0x0a, 0x05, 0x61]),
      WasmResult.BadArgument,
    ],
    ["bad wire type", new Uint8Array([0x0f]), WasmResult.BadArgument],
    [
      "invalid UTF-8",
      new Uint8Array([0x0a, 0x01, 0x61, 0x12, 0x01, 0xff]),
      WasmResult.BadArgument,
    ],
    [
      "port the factory refuses",
      encode("envoy.upstream.dynamic_port", "eighty"),
      WasmResult.BadArgument,
    ],
    [
      "port it accepts",
      encode("envoy.upstream.dynamic_port", "8080"),
      WasmResult.Ok,
    ],
    [
      "unknown field skipped",
      new Uint8Array([0x48, 0x01, ...encode(CLUSTER, "c")]),
      WasmResult.Ok,
    ],
    ["empty arguments (empty path)", new Uint8Array(0), WasmResult.NotFound],
  ];
  for (const [name, args, result] of cases) {
    const { conn } = await callIn(wasm, args);
    assertEquals(conn, `conn ${result}`, name);
  }
});

Deno.test("an unknown foreign function is NotFound", async () => {
  const { conn } = await callIn(
    await foreignModule("no_such_function"),
    new Uint8Array(0),
  );
  assertEquals(conn, "conn 1");
});

Deno.test("compress returns its result through the module's allocator", async () => {
  const wasm = await foreignModule("compress");
  const { conn } = await callIn(
    wasm,
    new TextEncoder().encode("hello hello hello"),
  );
  const [, rc, data] = conn.split(" ");
  assertEquals(rc, "0");
  const bytes = new Uint8Array(
    data.match(/../g)!.map((pair) => parseInt(pair, 16)),
  );
  assertEquals(
    new TextDecoder().decode(inflateSync(bytes)),
    "hello hello hello",
  );
});

Deno.test("the protobuf decoder follows proto3: last value wins, enums stay open", () => {
  const bytes = new Uint8Array([0x0a, 1, 0x61, 0x0a, 1, 0x62, 0x18, 0x07]);
  assertEquals(decodeSetEnvoyFilterStateArguments(bytes), {
    path: "b",
    value: "",
    span: 7,
  });
  const roundTrip = {
    path: CLUSTER,
    value: "outbound|443||egress1.default.svc.cluster.local",
    span: 1,
  };
  assertEquals(
    decodeSetEnvoyFilterStateArguments(
      encodeSetEnvoyFilterStateArguments(roundTrip),
    ),
    roundTrip,
  );
  assertEquals(
    decodeSetEnvoyFilterStateArguments(new Uint8Array([0x00])),
    undefined,
    "field 0",
  );
  assertEquals(
    hex(encodeSetEnvoyFilterStateArguments({ path: "a", value: "", span: 0 })),
    "0a0161",
  );
});
