import { assertEquals } from "../testing/assert.ts";
import { ProxyWasmVm, WasmResult } from "../mod.ts";
import { messages, TestModule } from "../testing/wat.ts";

const ROOT = "calls-root";
const ADDRESSES = { source: "10.0.0.2:1000", destination: "10.0.0.1:443" };

Deno.test("metrics follow Envoy's rules and are counted per VM and per connection", async () => {
  const m = new TestModule("0_2_0")
    .import("proxy_define_metric").import("proxy_increment_metric").import(
      "proxy_record_metric",
    )
    .import("proxy_get_metric");
  m.body(`
    (func (export "proxy_on_configure") (param i32 i32) (result i32)
      (drop (call $proxy_define_metric (i32.const 0) ${
    m.str("requests")
  } (i32.const 200)))
      (drop (call $proxy_define_metric (i32.const 1) ${
    m.str("active")
  } (i32.const 204)))
      (drop (call $proxy_define_metric (i32.const 2) ${
    m.str("sizes")
  } (i32.const 208)))
      (call $note ${
    m.str("ids")
  } (i32.load (i32.const 200)) (i32.load (i32.const 204)))
      (i32.const 1))
    (func (export "proxy_on_new_connection") (param i32) (result i32)
      (call $note ${
    m.str("inc")
  } (call $proxy_increment_metric (i32.load (i32.const 200)) (i64.const 2)) (i32.const 0))
      (call $note ${
    m.str("inc0")
  } (call $proxy_increment_metric (i32.load (i32.const 200)) (i64.const 0)) (i32.const 0))
      (call $note ${
    m.str("gauge")
  } (call $proxy_record_metric (i32.load (i32.const 204)) (i64.const 7)) (i32.const 0))
      (call $note ${
    m.str("hist")
  } (call $proxy_record_metric (i32.load (i32.const 208)) (i64.const 512)) (i32.const 0))
      (call $note ${
    m.str("unknown")
  } (call $proxy_increment_metric (i32.const 400) (i64.const 1)) (i32.const 0))
      (call $note ${
    m.str("get_hist")
  } (call $proxy_get_metric (i32.load (i32.const 208)) (i32.const 64)) (i32.const 0))
      (call $note ${
    m.str("get")
  } (call $proxy_get_metric (i32.load (i32.const 200)) (i32.const 64)) (i32.load (i32.const 64)))
      (i32.const 0))`);
  const vm = await ProxyWasmVm.load(await m.build(), { rootId: ROOT });
  assertEquals(messages(vm.logs), ["ids 4 5"]);
  const first = vm.openConnection(ADDRESSES);
  const second = vm.openConnection(ADDRESSES);
  assertEquals(messages(second.logs), [
    "inc 0 0",
    `inc0 ${WasmResult.BadArgument} 0`,
    "gauge 0 0",
    "hist 0 0",
    `unknown ${WasmResult.NotFound} 0`,
    `get_hist ${WasmResult.BadArgument} 0`,
    "get 0 4",
  ]);
  assertEquals(vm.metrics(), { requests: 4, active: 7, sizes: 2 });
  assertEquals(first.metrics(), { requests: 2, sizes: 1 });
});
