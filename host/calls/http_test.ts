import { assertEquals } from "../testing/assert.ts";
import { ProxyWasmVm, WasmResult } from "../mod.ts";
import { messages, TestModule } from "../testing/wat.ts";

const ROOT = "calls-root";
const ADDRESSES = { source: "10.0.0.2:1000", destination: "10.0.0.1:443" };

Deno.test("HTTP-only calls answer as Envoy does in a network filter", async () => {
  const m = new TestModule("0_2_0")
    .import("proxy_get_header_map_value").import("proxy_get_header_map_pairs")
    .import("proxy_http_call")
    .import("proxy_grpc_call").import("proxy_send_local_response").import(
      "proxy_add_header_map_value",
    );
  const note = (tag: string, call: string) =>
    `(call $note ${m.str(tag)} ${call} (i32.const 0))`;
  m.body(`(func (export "proxy_on_new_connection") (param i32) (result i32)
    ${
    note(
      "get_header",
      `(call $proxy_get_header_map_value (i32.const 0) ${
        m.str(":path")
      } (i32.const 64) (i32.const 68))`,
    )
  }
    ${
    note(
      "bad_map",
      `(call $proxy_add_header_map_value (i32.const 99) ${m.str("k")} ${
        m.str("v")
      })`,
    )
  }
    ${
    note(
      "pairs",
      `(call $proxy_get_header_map_pairs (i32.const 0) (i32.const 64) (i32.const 68))`,
    )
  }
    ${note("pairs_size", "(i32.load (i32.const 68))")}
    ${
    note(
      "http_call",
      `(call $proxy_http_call ${m.str("cluster")} ${m.str("")} ${m.str("")} ${
        m.str("")
      } (i32.const 1000) (i32.const 72))`,
    )
  }
    ${
    note(
      "grpc_call",
      `(call $proxy_grpc_call ${m.str(new Uint8Array([0x0a, 0x09]))} ${
        m.str("svc")
      } ${m.str("m")} ${m.str("")} ${
        m.str("")
      } (i32.const 1000) (i32.const 72))`,
    )
  }
    ${
    note(
      "local_reply",
      `(call $proxy_send_local_response (i32.const 403) ${m.str("no")} ${
        m.str("")
      } ${m.str("")} (i32.const 0))`,
    )
  }
    (i32.const 0))`);
  const vm = await ProxyWasmVm.load(await m.build(), { rootId: ROOT });
  const connection = vm.openConnection(ADDRESSES);
  assertEquals(messages(connection.logs), [
    `get_header ${WasmResult.BadArgument} 0`,
    `bad_map ${WasmResult.BadArgument} 0`,
    "pairs 0 0",
    "pairs_size 0 0",
    `http_call ${WasmResult.BadArgument} 0`,
    `grpc_call ${WasmResult.ParseFailure} 0`,
    "local_reply 0 0",
  ]);
});
