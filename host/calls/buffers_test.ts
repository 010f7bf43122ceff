import { assertEquals } from "../testing/assert.ts";
import { ProxyWasmVm, WasmResult } from "../mod.ts";
import { hex, messages, TestModule } from "../testing/wat.ts";

const ROOT = "calls-root";
const ADDRESSES = { source: "10.0.0.2:1000", destination: "10.0.0.1:443" };

Deno.test("network data is readable and can be prepended, appended or replaced", async () => {
  const m = new TestModule("0_2_0")
    .import("proxy_get_buffer_bytes").import("proxy_set_buffer_bytes").import(
      "proxy_get_buffer_status",
    );
  const report = (tag: string, call: string) =>
    `(call $report ${m.str(tag)} ${call} (i32.const 0) (i32.const 0))`;
  m.body(`
    (func (export "proxy_on_downstream_data") (param i32 i32 i32) (result i32)
      (call $report ${m.str("read")}
        (call $proxy_get_buffer_bytes (i32.const 2) (i32.const 0) (local.get 1) (i32.const 64) (i32.const 68))
        (i32.load (i32.const 64)) (i32.load (i32.const 68)))
      (call $report ${
    m.str("status")
  } (call $proxy_get_buffer_status (i32.const 2) (i32.const 80) (i32.const 84))
        (i32.const 80) (i32.const 4))
      ${
    report(
      "prepend",
      `(call $proxy_set_buffer_bytes (i32.const 2) (i32.const 0) (i32.const 0) ${
        m.str("<<")
      })`,
    )
  }
      ${
    report(
      "append",
      `(call $proxy_set_buffer_bytes (i32.const 2) (i32.const 1000) (i32.const 0) ${
        m.str(">>")
      })`,
    )
  }
      ${
    report(
      "middle",
      `(call $proxy_set_buffer_bytes (i32.const 2) (i32.const 1) (i32.const 1) ${
        m.str("x")
      })`,
    )
  }
      (i32.const 0))
    (func (export "proxy_on_upstream_data") (param i32 i32 i32) (result i32)
      ${
    report(
      "replace",
      `(call $proxy_set_buffer_bytes (i32.const 3) (i32.const 0) (i32.const 99) ${
        m.str("NEW")
      })`,
    )
  }
      (i32.const 0))
    (func (export "proxy_on_new_connection") (param i32) (result i32)
      ${
    report(
      "outside",
      `(call $proxy_set_buffer_bytes (i32.const 2) (i32.const 0) (i32.const 0) ${
        m.str("z")
      })`,
    )
  }
      ${
    report(
      "plugin_config",
      `(call $proxy_get_buffer_bytes (i32.const 7) (i32.const 0) (i32.const 9) (i32.const 64) (i32.const 68))`,
    )
  }
      ${
    report(
      "vm_config",
      `(call $proxy_get_buffer_bytes (i32.const 6) (i32.const 0) (i32.const 9) (i32.const 64) (i32.const 68))`,
    )
  }
      ${
    report(
      "http_call_body",
      `(call $proxy_get_buffer_bytes (i32.const 4) (i32.const 0) (i32.const 9) (i32.const 64) (i32.const 68))`,
    )
  }
      ${
    report(
      "bad_type",
      `(call $proxy_get_buffer_bytes (i32.const 9) (i32.const 0) (i32.const 9) (i32.const 64) (i32.const 68))`,
    )
  }
      (i32.const 0))
    (func (export "proxy_on_configure") (param i32 i32) (result i32)
      (call $report ${m.str("configure")}
        (call $proxy_get_buffer_bytes (i32.const 7) (i32.const 0) (local.get 1) (i32.const 64) (i32.const 68))
        (i32.load (i32.const 64)) (i32.load (i32.const 68)))
      (i32.const 1))`);
  const vm = await ProxyWasmVm.load(await m.build(), {
    rootId: ROOT,
    configuration: "cfg",
  });
  assertEquals(messages(vm.logs), [`configure 0 ${hex("cfg")}`]);
  const connection = vm.openConnection(ADDRESSES);
  assertEquals(messages(connection.logs).map((line) => line.trimEnd()), [
    `outside ${WasmResult.BadArgument}`,
    `plugin_config ${WasmResult.NotFound}`,
    `vm_config ${WasmResult.Ok}`,
    `http_call_body ${WasmResult.NotFound}`,
    `bad_type ${WasmResult.BadArgument}`,
  ]);
  const down = connection.downstreamData(new TextEncoder().encode("hi"));
  assertEquals(new TextDecoder().decode(down.data), "<<hi>>");
  assertEquals(
    messages(connection.logs).slice(5).map((line) => line.trimEnd()),
    [
      `read 0 ${hex("hi")}`,
      "status 0 02000000",
      "prepend 0",
      "append 0",
      `middle ${WasmResult.BadArgument}`,
    ],
  );
  const up = connection.upstreamData(new TextEncoder().encode("old"));
  assertEquals(new TextDecoder().decode(up.data), "NEW");
});
