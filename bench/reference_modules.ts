/**
 * The filter bench's two reference modules, hand-written in WebAssembly text:
 * real proxy-wasm modules (ABI marker, `malloc`, the context, configure,
 * connection, done and delete hooks) the host loads as it loads the filter.
 *
 * - no-op: every hook returns at once; what the host's bookkeeping alone costs.
 * - lean: the filter's decision with two host calls: one `proxy_get_property`
 *   of `source.address`, the parity of the last octet's last digit, one
 *   `proxy_call_foreign_function("set_envoy_filter_state")` with arguments
 *   encoded in the module's data (egress1 for even, egress2 for odd).
 *
 * @module
 */
import {
  encodeSetEnvoyFilterStateArguments,
  TCP_PROXY_CLUSTER_KEY,
} from "../host/mod.ts";
import { compileWat, watString } from "../host/testing/wat.ts";

const encoder = new TextEncoder();
const PATH = encoder.encode("source\0address");
const NAME = encoder.encode("set_envoy_filter_state");
const EVEN = encodeSetEnvoyFilterStateArguments({
  path: TCP_PROXY_CLUSTER_KEY,
  value: "egress1",
  span: 0,
});
const ODD = encodeSetEnvoyFilterStateArguments({
  path: TCP_PROXY_CLUSTER_KEY,
  value: "egress2",
  span: 0,
});

// Data layout: 0..15 out-parameters, 256 path, 320 name, 384 even args, 448 odd args.
// The heap starts at 4096 and is reset when a connection context is created:
// a connection's buffers live until its next sibling starts (one at a time here).
const COMMON = `
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 4096))
  (func $malloc (export "malloc") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (if (i32.gt_u (i32.add (local.get $p) (local.get $n)) (i32.const 65536))
      (then (return (i32.const 0))))
    (global.set $heap (i32.add (local.get $p)
      (i32.and (i32.add (local.get $n) (i32.const 7)) (i32.const -8))))
    (local.get $p))
  (func (export "proxy_abi_version_0_2_0"))
  (func (export "proxy_on_context_create") (param i32 i32)
    (global.set $heap (i32.const 4096)))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_delete") (param i32))`;

/** WAT of the module whose hooks do nothing. */
export const NOOP_WAT = `(module ${COMMON}
  (func (export "proxy_on_new_connection") (param i32) (result i32) (i32.const 0)))`;

/** WAT of the lean two-call module. */
export const LEAN_WAT = `(module
  (import "env" "proxy_get_property"
    (func $get_property (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_call_foreign_function"
    (func $call_foreign (param i32 i32 i32 i32 i32 i32) (result i32)))
  ${COMMON}
  (data (i32.const 256) "${watString(PATH)}")
  (data (i32.const 320) "${watString(NAME)}")
  (data (i32.const 384) "${watString(EVEN)}")
  (data (i32.const 448) "${watString(ODD)}")
  (func (export "proxy_on_new_connection") (param i32) (result i32)
    (local $at i32) (local $i i32) (local $odd i32)
    (if (call $get_property (i32.const 256) (i32.const ${PATH.length})
          (i32.const 0) (i32.const 4))
      (then (return (i32.const 0))))
    ;; "a.b.c.d:port": the digit before the last ':' decides.
    (local.set $at (i32.load (i32.const 0)))
    (local.set $i (i32.load (i32.const 4)))
    (block $found (loop $back
      (br_if $found (i32.lt_u (local.get $i) (i32.const 2)))
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (br_if $found (i32.eq (i32.load8_u (i32.add (local.get $at) (local.get $i)))
        (i32.const 58)))
      (br $back)))
    (local.set $odd (i32.and (i32.load8_u
      (i32.sub (i32.add (local.get $at) (local.get $i)) (i32.const 1))) (i32.const 1)))
    (drop (call $call_foreign (i32.const 320) (i32.const ${NAME.length})
      (select (i32.const 448) (i32.const 384) (local.get $odd))
      (select (i32.const ${ODD.length}) (i32.const ${EVEN.length}) (local.get $odd))
      (i32.const 8) (i32.const 12)))
    (i32.const 0)))`;

/** The no-op and lean reference modules, compiled. */
export async function referenceModules(): Promise<
  { noop: Uint8Array; lean: Uint8Array }
> {
  return {
    noop: await compileWat(NOOP_WAT),
    lean: await compileWat(LEAN_WAT),
  };
}
