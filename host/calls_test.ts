import { assert, assertEquals, assertThrows } from "./testing/assert.ts";
import { ProxyWasmVm, WasmResult, WasmVmFailedError } from "./mod.ts";
import { compileWat, messages, TestModule } from "./testing/wat.ts";

const ROOT = "calls-root";
const ADDRESSES = { source: "10.0.0.2:1000", destination: "10.0.0.1:443" };

Deno.test("a connection sees Envoy's callbacks in Envoy's order", async () => {
  const m = new TestModule("0_2_0");
  const note = (name: string, a: string, b: string) =>
    `(call $note ${m.str(name)} ${a} ${b})`;
  m.body(`
    (func (export "proxy_on_context_create") (param i32 i32) ${
    note("create", "(local.get 0)", "(local.get 1)")
  })
    (func (export "proxy_on_new_connection") (param i32) (result i32)
      ${note("new", "(local.get 0)", "(i32.const 0)")} (i32.const 0))
    (func (export "proxy_on_downstream_data") (param i32 i32 i32) (result i32)
      ${note("down", "(local.get 1)", "(local.get 2)")} (i32.const 0))
    (func (export "proxy_on_upstream_data") (param i32 i32 i32) (result i32)
      ${note("up", "(local.get 1)", "(local.get 2)")} (i32.const 7))
    (func (export "proxy_on_downstream_connection_close") (param i32 i32)
      ${note("down_close", "(local.get 0)", "(local.get 1)")})
    (func (export "proxy_on_upstream_connection_close") (param i32 i32)
      ${note("up_close", "(local.get 0)", "(local.get 1)")})
    (func (export "proxy_on_done") (param i32) (result i32) ${
    note("done", "(local.get 0)", "(i32.const 0)")
  } (i32.const 1))
    (func (export "proxy_on_log") (param i32) ${
    note("log", "(local.get 0)", "(i32.const 0)")
  })
    (func (export "proxy_on_delete") (param i32) ${
    note("delete", "(local.get 0)", "(i32.const 0)")
  })`);
  const vm = await ProxyWasmVm.load(await m.build(), { rootId: ROOT });
  assertEquals(messages(vm.logs), ["create 1 0"]);

  const first = vm.openConnection(ADDRESSES);
  assertEquals(first.id, 2);
  assertEquals(
    first.downstreamData(new TextEncoder().encode("hello")).status,
    0,
  );
  assertEquals(
    first.upstreamData(new TextEncoder().encode("abc"), true).status,
    1,
    "non-zero is StopIteration",
  );
  first.closeDownstream("remote");
  first.closeUpstream("local"); // after done: nothing more
  assertEquals(messages(first.logs), [
    "create 2 1",
    "new 2 0",
    "down 5 0",
    "up 3 1",
    "up_close 2 0",
    "down_close 2 2",
    "done 2 0",
    "log 2 0",
    "delete 2 0",
  ]);
  assert(first.finished);
  assertThrows(() => first.downstreamData(new Uint8Array(1)), Error);

  const second = vm.openConnection(ADDRESSES);
  second.closeUpstream("local");
  second.finish();
  second.finish();
  assertEquals(messages(second.logs).slice(2), [
    "up_close 3 1",
    "done 3 0",
    "log 3 0",
    "delete 3 0",
  ]);

  const third = vm.openConnection(ADDRESSES);
  vm.close();
  assert(third.finished, "closing the VM finishes open connections");
  assertEquals(messages(vm.logs).slice(-2), ["done 1 0", "delete 1 0"]);
});

Deno.test("stream calls record close and continue requests, as Envoy answers them", async () => {
  const m = new TestModule("0_2_0").import("proxy_close_stream").import(
    "proxy_continue_stream",
  );
  m.body(`(func (export "proxy_on_new_connection") (param i32) (result i32)
    (call $note ${
    m.str("close_down")
  } (call $proxy_close_stream (i32.const 2)) (i32.const 0))
    (call $note ${
    m.str("continue_down")
  } (call $proxy_continue_stream (i32.const 2)) (i32.const 0))
    (call $note ${
    m.str("continue_up")
  } (call $proxy_continue_stream (i32.const 3)) (i32.const 0))
    (call $note ${
    m.str("close_bad")
  } (call $proxy_close_stream (i32.const 9)) (i32.const 0))
    (i32.const 1))`);
  const vm = await ProxyWasmVm.load(await m.build(), { rootId: ROOT });
  const connection = vm.openConnection(ADDRESSES);
  assertEquals(connection.newConnectionStatus, 1);
  assertEquals(messages(connection.logs), [
    "close_down 0 0",
    "continue_down 0 0",
    `continue_up ${WasmResult.Unimplemented} 0`,
    `close_bad ${WasmResult.BadArgument} 0`,
  ]);
  assertEquals(connection.closeRequested, {
    downstream: true,
    upstream: false,
  });
  assert(connection.continueRequested);
});

Deno.test("out-of-bounds pointers are InvalidMemoryAccess, never garbage", async () => {
  const m = new TestModule("0_2_0")
    .import("proxy_get_property").import("proxy_get_buffer_status").import(
      "fd_write",
      "wasi_snapshot_preview1",
    );
  const far = "(i32.const 0x7ffffff0)";
  m.body(`(func (export "proxy_on_new_connection") (param i32) (result i32)
    (call $note ${
    m.str("log")
  } (call $proxy_log (i32.const 2) ${far} (i32.const 100)) (i32.const 0))
    (call $note ${
    m.str("path")
  } (call $proxy_get_property ${far} (i32.const 4) (i32.const 64) (i32.const 68)) (i32.const 0))
    (call $note ${m.str("result")} (call $proxy_get_property ${
    m.str("plugin_root_id")
  } ${far} (i32.const 68)) (i32.const 0))
    (call $note ${
    m.str("status")
  } (call $proxy_get_buffer_status (i32.const 6) ${far} (i32.const 64)) (i32.const 0))
    (call $note ${m.str("level")} (call $proxy_log (i32.const 6) ${
    m.str("x")
  }) (i32.const 0))
    (i32.store (i32.const 96) (i32.const 0x7ffffff0))
    (i32.store (i32.const 100) (i32.const 5))
    (call $note ${
    m.str("fd_write")
  } (call $fd_write (i32.const 1) (i32.const 96) (i32.const 1) (i32.const 104)) (i32.const 0))
    (i32.const 0))`);
  const vm = await ProxyWasmVm.load(await m.build(), { rootId: ROOT });
  const connection = vm.openConnection(ADDRESSES);
  assertEquals(messages(connection.logs), [
    "log 6 0",
    "path 6 0",
    "result 6 0",
    "status 6 0",
    `level ${WasmResult.BadArgument} 0`,
    "fd_write 21 0",
  ]);
});

Deno.test("stdout and stderr become log lines; other descriptors are refused", async () => {
  const m = new TestModule("0_2_0").import("fd_write", "wasi_unstable");
  const write = (fd: number) => `
    (i32.store (i32.const 96) (i32.load (i32.const 120)))
    (call $note ${
    m.str(`fd${fd}`)
  } (call $fd_write (i32.const ${fd}) (i32.const 96) (i32.const 1) (i32.const 104))
      (i32.load (i32.const 104)))`;
  const text = m.str("hello\n");
  const [, pointer, length] = text.match(/const (\d+)\) \(i32\.const (\d+)/)!;
  m.body(`(func (export "proxy_on_new_connection") (param i32) (result i32)
    (i32.store (i32.const 120) (i32.const ${pointer}))
    (i32.store (i32.const 100) (i32.const ${length}))
    ${write(1)} ${write(2)} ${write(3)}
    (i32.const 0))`);
  const vm = await ProxyWasmVm.load(await m.build(), { rootId: ROOT });
  const connection = vm.openConnection(ADDRESSES);
  assertEquals(
    connection.logs.map((entry) => `${entry.level} ${entry.message}`),
    [
      "info hello",
      "info fd1 0 6",
      "error hello",
      "info fd2 0 6",
      "info fd3 8 6",
    ],
  );
});

Deno.test("the effective context takes the calls until the callback returns", async () => {
  const m = new TestModule("0_2_0").import("proxy_set_effective_context");
  m.body(
    `(func (export "proxy_on_downstream_data") (param i32 i32 i32) (result i32)
    (call $note ${
      m.str("bad")
    } (call $proxy_set_effective_context (i32.const 99)) (i32.const 0))
    (drop (call $proxy_set_effective_context (i32.const 2)))
    (call $note ${m.str("as_2")} (local.get 0) (i32.const 0))
    (i32.const 0))
    (func (export "proxy_on_upstream_data") (param i32 i32 i32) (result i32)
      (call $note ${m.str("own")} (local.get 0) (i32.const 0)) (i32.const 0))`,
  );
  const vm = await ProxyWasmVm.load(await m.build(), { rootId: ROOT });
  const two = vm.openConnection(ADDRESSES);
  const three = vm.openConnection(ADDRESSES);
  three.downstreamData(new Uint8Array(1));
  three.upstreamData(new Uint8Array(1));
  assertEquals(messages(three.logs), [
    `bad ${WasmResult.BadArgument} 0`,
    "own 3 0",
  ]);
  assertEquals(messages(two.logs), ["as_2 3 0"]);
});

Deno.test("ticks reach the root context, and proxy_done completes a deferred shutdown", async () => {
  const m = new TestModule("0_2_0").import("proxy_set_tick_period_milliseconds")
    .import("proxy_done");
  m.body(`
    (global $closing (mut i32) (i32.const 0))
    (func (export "proxy_on_configure") (param i32 i32) (result i32)
      (drop (call $proxy_set_tick_period_milliseconds (i32.const 250))) (i32.const 1))
    (func (export "proxy_on_tick") (param i32)
      (call $note ${m.str("tick")} (local.get 0) (global.get $closing))
      (if (global.get $closing) (then
        (call $note ${m.str("proxy_done")} (call $proxy_done) (i32.const 0)))))
    (func (export "proxy_on_done") (param i32) (result i32)
      (global.set $closing (i32.const 1)) (i32.const 0))
    (func (export "proxy_on_delete") (param i32) (call $note ${
    m.str("delete")
  } (local.get 0) (i32.const 0)))`);
  const vm = await ProxyWasmVm.load(await m.build(), { rootId: ROOT });
  assertEquals(vm.tickPeriodMilliseconds, 250);
  vm.tick();
  vm.close();
  assertEquals(messages(vm.logs), ["tick 1 0"]);
  vm.tick();
  assertEquals(messages(vm.logs), [
    "tick 1 0",
    "tick 1 1",
    "proxy_done 0 0",
    "delete 1 0",
  ]);
});

Deno.test("a trap in one connection fails the VM; close and finish stay quiet", async () => {
  const m = new TestModule("0_2_0");
  m.body(
    `(func (export "proxy_on_downstream_data") (param i32 i32 i32) (result i32)
    (if (i32.eq (local.get 1) (i32.const 13)) (then (unreachable))) (i32.const 0))`,
  );
  const vm = await ProxyWasmVm.load(await m.build(), { rootId: ROOT });
  const healthy = vm.openConnection(ADDRESSES);
  const victim = vm.openConnection(ADDRESSES);
  const error = assertThrows(
    () => victim.downstreamData(new Uint8Array(13)),
    Error,
  );
  assertEquals(
    error.message,
    "proxy_on_downstream_data trapped in context 3: unreachable",
  );
  assertThrows(
    () => healthy.downstreamData(new Uint8Array(1)),
    WasmVmFailedError,
  );
  healthy.closeDownstream("remote");
  victim.finish();
  vm.close();
  assert(vm.memoryBytes() === 2 * 65536);
});

Deno.test("values land in memory the allocator just grew", async () => {
  const wasm = await compileWat(`(module
    (import "env" "proxy_get_property" (func $get (param i32 i32 i32 i32) (result i32)))
    (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 100) "plugin_root_id")
    (func (export "malloc") (param i32) (result i32)
      (i32.mul (memory.grow (i32.const 1)) (i32.const 65536)))
    (func (export "proxy_abi_version_0_2_0"))
    (func (export "proxy_on_new_connection") (param i32) (result i32)
      (drop (call $get (i32.const 100) (i32.const 14) (i32.const 64) (i32.const 68)))
      (drop (call $log (i32.const 2) (i32.load (i32.const 64)) (i32.load (i32.const 68))))
      (drop (call $get (i32.const 100) (i32.const 14) (i32.const 64) (i32.const 68)))
      (drop (call $log (i32.const 2) (i32.load (i32.const 64)) (i32.load (i32.const 68))))
      (i32.const 0)))`);
  const vm = await ProxyWasmVm.load(wasm, { rootId: ROOT });
  const connection = vm.openConnection(ADDRESSES);
  assertEquals(messages(connection.logs), [ROOT, ROOT]);
  assertEquals(vm.memoryBytes(), 3 * 65536);
});
