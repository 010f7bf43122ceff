import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertThrows,
} from "./testing/assert.ts";
import {
  ConfigurationRejectedError,
  ProxyWasmVm,
  WasmLoadError,
  WasmTrapError,
  WasmVmFailedError,
} from "./mod.ts";
import { compileWat, messages, TestModule } from "./testing/wat.ts";

const ROOT = "test-root";

Deno.test("a module without an ABI version marker is refused with Envoy's words", async () => {
  const wasm = await new TestModule(null).build();
  const error = await assertRejects(
    () => ProxyWasmVm.load(wasm, { rootId: ROOT }),
    WasmLoadError,
  );
  assertEquals(error.message, "Missing or unknown Proxy-Wasm ABI version");
});

Deno.test("an unknown ABI version is refused and named", async () => {
  const wasm = await new TestModule("0_3_0").build();
  const error = await assertRejects(
    () => ProxyWasmVm.load(wasm, { rootId: ROOT }),
    WasmLoadError,
  );
  assertMatch(
    error.message,
    /^Missing or unknown Proxy-Wasm ABI version .*proxy_abi_version_0_3_0/,
  );
});

Deno.test("each accepted ABI version is reported", async () => {
  for (
    const [marker, version] of [["0_1_0", "0.1.0"], ["0_2_0", "0.2.0"], [
      "0_2_1",
      "0.2.1",
    ]]
  ) {
    const vm = await ProxyWasmVm.load(await new TestModule(marker).build(), {
      rootId: ROOT,
    });
    assertEquals(vm.abiVersion, version);
    vm.close();
  }
});

Deno.test("bytes that are not WebAssembly are a load error", async () => {
  const error = await assertRejects(
    () =>
      ProxyWasmVm.load(new TextEncoder().encode("not wasm"), { rootId: ROOT }),
    WasmLoadError,
  );
  assertMatch(error.message, /^Failed to parse corrupted Wasm module/);
});

Deno.test("a missing import is named at load time", async () => {
  const wasm = await compileWat(`(module
    (import "env" "proxy_foo" (func (param i32) (result i32)))
    (import "env" "proxy_log" (func (param i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (func (export "malloc") (param i32) (result i32) (i32.const 0))
    (func (export "proxy_abi_version_0_2_0")))`);
  const error = await assertRejects(
    () => ProxyWasmVm.load(wasm, { rootId: ROOT }),
    WasmLoadError,
  );
  assertEquals(
    error.message,
    "Failed to load Wasm module due to a missing import: env.proxy_foo",
  );
});

Deno.test("proxy_get_log_level links under 0.2.1 only", async () => {
  const module = (abi: string) =>
    new TestModule(abi).import("proxy_get_log_level").body(`
      (func (export "proxy_on_configure") (param i32 i32) (result i32)
        (local $rc i32)
        (local.set $rc (call $proxy_get_log_level (i32.const 64)))
        (call $note (i32.const 0) (i32.const 0) (local.get $rc) (i32.load (i32.const 64)))
        (i32.const 1))`).build();
  const error = await assertRejects(
    async () => ProxyWasmVm.load(await module("0_2_0"), { rootId: ROOT }),
    WasmLoadError,
  );
  assertMatch(error.message, /missing import: env\.proxy_get_log_level$/);
  const vm = await ProxyWasmVm.load(await module("0_2_1"), {
    rootId: ROOT,
    logLevel: "warn",
  });
  assertEquals(vm.logs.length, 0, "an info line is below the warn level");
  const debug = await ProxyWasmVm.load(await module("0_2_1"), {
    rootId: ROOT,
    logLevel: "debug",
  });
  assertEquals(messages(debug.logs), [" 0 1"]);
});

Deno.test("0.1.0 offers get_configuration but not the 0.2 stream calls", async () => {
  const v01 = new TestModule("0_1_0").import("proxy_continue_stream");
  await assertRejects(
    async () => ProxyWasmVm.load(await v01.build(), { rootId: ROOT }),
    WasmLoadError,
  );
  const v02 = new TestModule("0_2_0").import("proxy_get_configuration");
  await assertRejects(
    async () => ProxyWasmVm.load(await v02.build(), { rootId: ROOT }),
    WasmLoadError,
  );
  const m = new TestModule("0_1_0").import("proxy_get_configuration");
  m.body(`(func (export "proxy_on_configure") (param i32 i32) (result i32)
    (call $report ${
    m.str("cfg")
  } (call $proxy_get_configuration (i32.const 64) (i32.const 68))
      (i32.load (i32.const 64)) (i32.load (i32.const 68)))
    (i32.const 1))`);
  const vm = await ProxyWasmVm.load(await m.build(), {
    rootId: ROOT,
    configuration: "hi",
  });
  assertEquals(messages(vm.logs), ["cfg 0 6869"]);
});

Deno.test("an import whose type differs from the host's is refused", async () => {
  const wasm = await compileWat(`(module
    (import "env" "proxy_log" (func (param i32) (result i32)))
    (memory (export "memory") 1)
    (func (export "malloc") (param i32) (result i32) (i32.const 0))
    (func (export "proxy_abi_version_0_2_0")))`);
  const error = await assertRejects(
    () => ProxyWasmVm.load(wasm, { rootId: ROOT }),
    WasmLoadError,
  );
  assertMatch(
    error.message,
    /import type mismatch for env\.proxy_log: the module declares \(i32\) -> i32/,
  );
});

Deno.test("a start section that calls a host import fails to instantiate", async () => {
  const m = new TestModule("0_2_0");
  m.body(
    `(func $early (drop (call $proxy_log (i32.const 2) ${m.str("too early")})))
    (start $early)`,
  );
  const error = await assertRejects(
    async () => ProxyWasmVm.load(await m.build(), { rootId: ROOT }),
    WasmLoadError,
  );
  assertMatch(
    error.message,
    /start function called the host import env\.proxy_log/,
  );
});

Deno.test("a module without malloc or memory is refused", async () => {
  const noMalloc = await compileWat(`(module (memory (export "memory") 1)
    (func (export "proxy_abi_version_0_2_0")))`);
  const error = await assertRejects(
    () => ProxyWasmVm.load(noMalloc, { rootId: ROOT }),
    WasmLoadError,
  );
  assertEquals(error.message, "Wasm module is missing malloc function.");
  const aliasOnly = await compileWat(`(module (memory (export "memory") 1)
    (func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 0))
    (func (export "proxy_abi_version_0_2_0")))`);
  (await ProxyWasmVm.load(aliasOnly, { rootId: ROOT })).close();
});

Deno.test("the VM starts like Envoy: _initialize, main, then the root context", async () => {
  const m = new TestModule("0_2_0");
  m.body(`
    (func (export "_initialize") (call $note ${
    m.str("_initialize")
  } (i32.const 0) (i32.const 0)))
    (func (export "main") (param i32 i32) (result i32)
      (call $note ${m.str("main")} (local.get 0) (local.get 1)) (i32.const 0))
    (func (export "_start") (call $note ${
    m.str("_start")
  } (i32.const 0) (i32.const 0)))
    (func (export "proxy_on_context_create") (param i32 i32)
      (call $note ${m.str("create")} (local.get 0) (local.get 1)))
    (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
      (call $note ${
    m.str("vm_start")
  } (local.get 0) (local.get 1)) (i32.const 1))
    (func (export "proxy_validate_configuration") (param i32 i32) (result i32)
      (call $note ${
    m.str("validate")
  } (local.get 0) (local.get 1)) (i32.const 0))
    (func (export "proxy_on_configure") (param i32 i32) (result i32)
      (call $note ${
    m.str("configure")
  } (local.get 0) (local.get 1)) (i32.const 1))
    (func (export "proxy_on_done") (param i32) (result i32)
      (call $note ${m.str("done")} (local.get 0) (i32.const 0)) (i32.const 1))
    (func (export "proxy_on_delete") (param i32)
      (call $note ${m.str("delete")} (local.get 0) (i32.const 0)))`);
  const vm = await ProxyWasmVm.load(await m.build(), {
    rootId: ROOT,
    configuration: "abc",
    vmConfiguration: "vmconf",
  });
  vm.close();
  vm.close();
  assertEquals(messages(vm.logs), [
    "_initialize 0 0",
    "main 0 0",
    "create 1 0",
    "vm_start 1 6",
    "configure 1 3",
    "done 1 0",
    "delete 1 0",
  ]);
  assertEquals(vm.logs.map((entry) => entry.contextId), [0, 0, 1, 1, 1, 1, 1]);
});

Deno.test("configure returning false is a rejection carrying the filter's error lines", async () => {
  const m = new TestModule("0_2_0");
  m.body(`(func (export "proxy_on_configure") (param i32 i32) (result i32)
    (drop (call $proxy_log (i32.const 3) ${m.str("just a warning")}))
    (drop (call $proxy_log (i32.const 4) ${
    m.str("invalid configuration: not valid JSON")
  }))
    (i32.const 0))`);
  const error = await assertRejects(
    async () =>
      ProxyWasmVm.load(await m.build(), { rootId: ROOT, configuration: "{" }),
    ConfigurationRejectedError,
  );
  assertMatch(
    error.message,
    /proxy_on_configure returned false\): invalid configuration: not valid JSON$/,
  );
  assertEquals(error.filterMessages, ["invalid configuration: not valid JSON"]);
});

Deno.test("a trap names hook and context, and fails the VM for good", async () => {
  const m = new TestModule("0_2_0");
  m.body(
    `(func (export "proxy_on_new_connection") (param i32) (result i32) (unreachable))`,
  );
  const vm = await ProxyWasmVm.load(await m.build(), { rootId: ROOT });
  const trap = assertThrows(
    () =>
      vm.openConnection({ source: "10.0.0.1:1", destination: "10.0.0.2:2" }),
    WasmTrapError,
  );
  assertEquals(
    trap.message,
    "proxy_on_new_connection trapped in context 2: unreachable",
  );
  assertEquals([trap.hook, trap.contextId], ["proxy_on_new_connection", 2]);
  assertEquals(vm.failure, trap);
  const again = assertThrows(
    () =>
      vm.openConnection({ source: "10.0.0.1:1", destination: "10.0.0.2:2" }),
    WasmVmFailedError,
  );
  assertEquals(again.cause, trap);
  vm.close(); // nothing to call into: no throw
});

Deno.test("proc_exit records an error and traps with the abort message", async () => {
  const m = new TestModule("0_2_0").import(
    "proc_exit",
    "wasi_snapshot_preview1",
  );
  m.body(`(func (export "proxy_on_new_connection") (param i32) (result i32)
    (drop (call $proxy_log (i32.const 5) ${
    m.str("abort: boom at: filter.ts(1:2)")
  }))
    (call $proc_exit (i32.const 255))
    (i32.const 0))`);
  const vm = await ProxyWasmVm.load(await m.build(), { rootId: ROOT });
  const trap = assertThrows(
    () =>
      vm.openConnection({ source: "10.0.0.1:1", destination: "10.0.0.2:2" }),
    WasmTrapError,
  );
  assertEquals(
    trap.message,
    "proxy_on_new_connection trapped in context 2: proc_exit(255) (wasm abort: abort: boom at: filter.ts(1:2))",
  );
  assertEquals(vm.logs.at(-1)?.level, "error");
  assertMatch(vm.logs.at(-1)!.message, /proc_exit\(255\)/);
});

Deno.test("while the VM starts only logging, clocks, random and args are allowed", async () => {
  const m = new TestModule("0_2_0").import("proxy_get_property").import(
    "clock_time_get",
    "wasi_unstable",
  );
  m.body(`(func (export "_initialize")
    (drop (call $clock_time_get (i32.const 0) (i64.const 0) (i32.const 64)))
    (drop (call $proxy_get_property (i32.const 0) (i32.const 0) (i32.const 64) (i32.const 68))))`);
  const error = await assertRejects(
    async () => ProxyWasmVm.load(await m.build(), { rootId: ROOT }),
    WasmTrapError,
  );
  assertEquals(error.hook, "_initialize");
  assertMatch(error.message, /restricted_callback: env\.proxy_get_property/);
});

Deno.test("a missing proxy_on_new_connection is skipped silently as Continue", async () => {
  const vm = await ProxyWasmVm.load(await new TestModule("0_2_0").build(), {
    rootId: ROOT,
  });
  const connection = vm.openConnection({
    source: "10.0.0.1:1",
    destination: "10.0.0.2:2",
  });
  assertEquals(connection.newConnectionStatus, 0);
  assertEquals(connection.logs, []);
  const data = new Uint8Array([1, 2, 3]);
  assertEquals(connection.downstreamData(data), { status: 0, data });
  connection.finish();
  assert(connection.finished);
  assertEquals(vm.logs, []);
});
