import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
} from "../host/testing/assert.ts";
import { TestModule } from "../host/testing/wat.ts";
import { UserError } from "../lib/errors.ts";
import { converse, eventually, testPlane } from "./testing.ts";
import { startLocalPlane } from "./plane.ts";
import { embeddedFilter } from "../lib/filter_module.ts";

Deno.test("both parities through the real proxy, each to its egress", async () => {
  const { plane, access } = await testPlane();
  try {
    const even = await converse(plane.listen, "127.0.0.10");
    const odd = await converse(plane.listen, "127.0.0.11");
    assertEquals(even.text, "egress1\n");
    assertEquals(odd.text, "egress2\n");
    await eventually(() => access.length === 2);
    assertMatch(
      access.find((line) => line.includes("src=127.0.0.11:"))!,
      /^\[\d{4}-\d\d-\d\dT[0-9:.]+Z\] cluster=egress2 src=127\.0\.0\.11:\d+ dst=127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+ bytes=0\/8 [0-9.]+ms$/,
    );
  } finally {
    await plane.close();
  }
});

Deno.test("after the banner the egress echoes, and half-close ends the echo cleanly", async () => {
  const { plane, access, filter } = await testPlane();
  try {
    const talk = await converse(
      plane.listen,
      "127.0.0.12",
      "hello through the filter",
    );
    assertEquals(talk.text, "egress1\nhello through the filter");
    assert(talk.ended, "the server side ended with FIN after echoing");
    await eventually(() => access.length === 1);
    assertMatch(access[0], / bytes=24\/32 /);
    assert(
      filter.some((line) => line.includes("127.0.0.12")),
      "the filter logged the connection",
    );
  } finally {
    await plane.close();
  }
});

Deno.test("an egress that is down: that connection is closed and logged, the proxy keeps serving", async () => {
  const { plane, access } = await testPlane();
  try {
    await plane.egress[1].close();
    const odd = await converse(plane.listen, "127.0.0.13");
    assertEquals(odd.text, "");
    await eventually(() => access.length === 1);
    assertMatch(
      access[0],
      /cluster=egress2 .* \(upstream connect error: connect ECONNREFUSED/,
    );
    const even = await converse(plane.listen, "127.0.0.14");
    assertEquals(even.text, "egress1\n");
  } finally {
    await plane.close();
  }
});

Deno.test("a filter that traps on one connection: it is closed and logged, the rest go on", async () => {
  const m = new TestModule("0_2_0");
  m.body(
    `(func (export "proxy_on_downstream_data") (param i32 i32 i32) (result i32)
    (if (i32.eq (local.get 1) (i32.const 13)) (then (unreachable))) (i32.const 0))`,
  );
  const { plane, access, filter } = await testPlane({ wasm: await m.build() });
  try {
    const victim = await converse(plane.listen, "127.0.0.15", "trap me now!\n");
    assertEquals(
      victim.text,
      "egress1\n",
      "banner, then closed without the echo",
    );
    await eventually(() => access.length === 1);
    assertMatch(
      access[0],
      /\(the filter trapped: proxy_on_downstream_data trapped in context 2: unreachable\)$/,
    );
    const next = await converse(plane.listen, "127.0.0.16", "fine");
    assertEquals(next.text, "egress1\nfine");
    assertEquals(plane.proxy.vmLoads, 2, "a fresh VM took the next connection");
    assert(filter.some((line) => line.includes("loading a new one")));
  } finally {
    await plane.close();
  }
});

Deno.test("200 concurrent connections are all answered by the right egress", async () => {
  const { plane, access } = await testPlane();
  try {
    const talks = await Promise.all(
      Array.from({ length: 200 }, (_, i) => {
        const last = 20 + (i % 50);
        return converse(plane.listen, `127.0.0.${last}`, `ping ${i}`, 15000)
          .then((talk) => ({
            talk,
            expected: `egress${last % 2 === 0 ? 1 : 2}\nping ${i}`,
          }));
      }),
    );
    const wrong = talks.filter(({ talk, expected }) => talk.text !== expected);
    assertEquals(wrong.length, 0, JSON.stringify(wrong.slice(0, 3)));
    await eventually(() => access.length === 200);
  } finally {
    await plane.close();
  }
});

Deno.test("bad input: a port in use and an Istio configuration are one-line errors", async () => {
  const { plane } = await testPlane();
  try {
    const inUse = await assertRejects(
      () =>
        startLocalPlane({
          listen: plane.listen,
          egress: [{ host: "127.0.0.1", port: 0 }, {
            host: "127.0.0.1",
            port: 0,
          }],
          config: "standalone",
          wasm: embeddedFilter(),
        }),
      UserError,
    );
    assertMatch(inUse.message, /^proxy: 127\.0\.0\.1:\d+ is already in use/);
    const istio = await assertRejects(
      () => testPlane({ config: "istio" }),
      UserError,
    );
    assertEquals(istio.exitCode, 2);
    const rejected = await assertRejects(
      () => testPlane({ config: '{"clusters":["one"]}' }),
      UserError,
    );
    assertMatch(rejected.message, /clusters/);
  } finally {
    await plane.close();
  }
});

Deno.test("a connection the filter stops waits until the filter continues it from a tick", async () => {
  const m = new TestModule("0_2_0")
    .import("proxy_set_tick_period_milliseconds").import(
      "proxy_set_effective_context",
    )
    .import("proxy_continue_stream");
  m.body(`
    (global $waiting (mut i32) (i32.const 0))
    (func (export "proxy_on_configure") (param i32 i32) (result i32)
      (drop (call $proxy_set_tick_period_milliseconds (i32.const 20))) (i32.const 1))
    (func (export "proxy_on_new_connection") (param i32) (result i32)
      (global.set $waiting (local.get 0)) (i32.const 1))
    (func (export "proxy_on_tick") (param i32)
      (if (global.get $waiting) (then
        (drop (call $proxy_set_effective_context (global.get $waiting)))
        (drop (call $proxy_continue_stream (i32.const 2)))
        (global.set $waiting (i32.const 0)))))`);
  const { plane, access } = await testPlane({ wasm: await m.build() });
  try {
    const talk = await converse(plane.listen, "127.0.0.18", "resumed");
    assertEquals(talk.text, "egress1\nresumed");
    await eventually(() => access.length === 1);
    assert(!access[0].includes("("), access[0]);
  } finally {
    await plane.close();
  }
});
