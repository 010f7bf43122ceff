import { assertEquals } from "./testing/assert.ts";
import { ProxyWasmVm, WasmResult } from "./mod.ts";
import { hex, TestModule } from "./testing/wat.ts";

const ROOT = "prop-root";

/** A module that looks up the property path given as its VM configuration, in the root and in a connection. */
async function propertyModule(): Promise<Uint8Array> {
  const m = new TestModule("0_2_0").import("proxy_get_buffer_bytes").import(
    "proxy_get_property",
  );
  const lookup = (tag: string) => `
    (i32.store (i32.const 72) (i32.const 0))
    (i32.store (i32.const 76) (i32.const 0))
    (drop (call $proxy_get_buffer_bytes (i32.const 6) (i32.const 0) (i32.const 4096) (i32.const 64) (i32.const 68)))
    (call $report ${m.str(tag)}
      (call $proxy_get_property (i32.load (i32.const 64)) (i32.load (i32.const 68)) (i32.const 72) (i32.const 76))
      (i32.load (i32.const 72)) (i32.load (i32.const 76)))`;
  m.body(`
    (func (export "proxy_on_configure") (param i32 i32) (result i32) ${
    lookup("root")
  } (i32.const 1))
    (func (export "proxy_on_new_connection") (param i32) (result i32) ${
    lookup("conn")
  } (i32.const 0))`);
  return await m.build();
}

const u64 = (value: number) => {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(value), true);
  return hex(bytes);
};

Deno.test("properties are answered as Envoy encodes them, by NUL-separated path", async () => {
  const wasm = await propertyModule();
  const cases: [string, number, string][] = [
    ["source\0address", WasmResult.Ok, hex("10.0.0.3:5555")],
    ["source\0port", WasmResult.Ok, u64(5555)],
    ["destination\0address", WasmResult.Ok, hex("[::1]:80")],
    ["destination\0port", WasmResult.Ok, u64(80)],
    ["source\0address\0", WasmResult.Ok, hex("10.0.0.3:5555")],
    ["connection_id", WasmResult.Ok, u64(42)],
    ["connection\0id", WasmResult.Ok, u64(42)],
    ["connection\0mtls", WasmResult.Ok, "00"],
    ["plugin_root_id", WasmResult.Ok, hex(ROOT)],
    ["plugin_name", WasmResult.Ok, hex("my-plugin")],
    ["plugin_vm_id", WasmResult.Ok, hex("vm-1")],
    ["source.address", WasmResult.NotFound, ""],
    ["source\0nope", WasmResult.NotFound, ""],
    ["source\0address\0more", WasmResult.NotFound, ""],
    ["no_such_property", WasmResult.NotFound, ""],
    ["", WasmResult.NotFound, ""],
    ["source", WasmResult.SerializationFailure, ""],
  ];
  for (const [path, result, value] of cases) {
    const vm = await ProxyWasmVm.load(wasm, {
      rootId: ROOT,
      pluginName: "my-plugin",
      vmId: "vm-1",
      vmConfiguration: path,
    });
    const connection = vm.openConnection({
      source: "10.0.0.3:5555",
      destination: "[::1]:80",
      connectionId: 42,
    });
    assertEquals(
      connection.logs[0].message.trimEnd(),
      `conn ${result} ${value}`.trimEnd(),
      JSON.stringify(path),
    );
    connection.finish();
    vm.close();
  }
});

Deno.test("the root context has plugin properties but no connection", async () => {
  const wasm = await propertyModule();
  for (
    const [path, expected] of [
      ["plugin_root_id", `root 0 ${hex(ROOT)}`],
      ["source\0address", "root 1"],
      ["connection_id", "root 1"],
    ]
  ) {
    const vm = await ProxyWasmVm.load(wasm, {
      rootId: ROOT,
      vmConfiguration: path,
    });
    assertEquals(vm.logs[0].message.trimEnd(), expected);
  }
});

Deno.test("an address without a port has no port property; the address passes as given", async () => {
  const wasm = await propertyModule();
  for (
    const [source, path, expected] of [
      ["garbage", "source\0address", `conn 0 ${hex("garbage")}`],
      ["garbage", "source\0port", "conn 1"],
      ["10.0.0.7", "source\0port", "conn 1"],
      ["[2001:db8::1]:443", "source\0port", `conn 0 ${u64(443)}`],
    ]
  ) {
    const vm = await ProxyWasmVm.load(wasm, {
      rootId: ROOT,
      vmConfiguration: path,
    });
    const connection = vm.openConnection({ source, destination: "10.0.0.1:1" });
    assertEquals(connection.logs[0].message.trimEnd(), expected);
  }
});
