/**
 * A filter that is not the parity filter, for the tests that prove the tool
 * runs and judges any filter: a proxy-wasm module hand-written in WebAssembly
 * text, with its own root id, its own cluster names and its own rule.
 *
 * The rule looks at the last digit of the source address (the character
 * before the port's `:`): `0` leaves the connection alone (tcp_proxy's
 * default cluster takes it), a digit below the threshold goes to the `low`
 * cluster, any other to `high`. The configuration is the threshold, one
 * digit (`""` means 5). Under another root id than its own, configure fails,
 * so Envoy and the host both refuse it.
 *
 * @module
 */
import {
  encodeSetEnvoyFilterStateArguments,
  TCP_PROXY_CLUSTER_KEY,
} from "../host/mod.ts";
import { compileWat, watString } from "../host/testing/wat.ts";

/** What the digit filter is built with. */
export interface DigitFilterOptions {
  /** The root id it registers (default `digit-router`). */
  rootId?: string;
  /** The cluster for digits below the threshold (default `alpha`). */
  low?: string;
  /** The cluster for the other digits, 0 excepted (default `beta`). */
  high?: string;
}

/** The TypeScript form of the rule, for the tests' own expectations. */
export function digitDecision(
  source: string,
  configuration: string,
  options: DigitFilterOptions = {},
): string | null {
  const port = source.lastIndexOf(":");
  const digit = source[(port < 0 ? source.length : port) - 1];
  if (digit === "0") return null;
  const threshold = configuration === "" ? "5" : configuration[0];
  return digit < threshold ? options.low ?? "alpha" : options.high ?? "beta";
}

/** WebAssembly text of the digit filter. */
export function digitFilterWat(options: DigitFilterOptions = {}): string {
  const encoder = new TextEncoder();
  const root = encoder.encode(options.rootId ?? "digit-router");
  const args = (value: string) =>
    encodeSetEnvoyFilterStateArguments({
      path: TCP_PROXY_CLUSTER_KEY,
      value,
      span: 0,
    });
  const low = args(options.low ?? "alpha");
  const high = args(options.high ?? "beta");
  const source = encoder.encode("source\0address");
  const rootProperty = encoder.encode("plugin_root_id");
  const foreign = encoder.encode("set_envoy_filter_state");
  const alone = encoder.encode("no override (the source ends in 0)");
  if (low.length > 120 || high.length > 120 || root.length > 60) {
    throw new Error("digit filter names too long");
  }
  // Data: 0..15 out-parameters, 256 source path, 320 root property, 384 root
  // id, 448 foreign name, 512 note, 640 low args, 768 high args. Heap 4096+.
  return `(module
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_property"
    (func $get_property (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_buffer_bytes"
    (func $get_buffer (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_call_foreign_function"
    (func $call_foreign (param i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 4096))
  (global $threshold (mut i32) (i32.const 53))
  (func $malloc (export "malloc") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (if (i32.gt_u (i32.add (local.get $p) (local.get $n)) (i32.const 65536))
      (then (return (i32.const 0))))
    (global.set $heap (i32.add (local.get $p)
      (i32.and (i32.add (local.get $n) (i32.const 7)) (i32.const -8))))
    (local.get $p))
  (data (i32.const 256) "${watString(source)}")
  (data (i32.const 320) "${watString(rootProperty)}")
  (data (i32.const 384) "${watString(root)}")
  (data (i32.const 448) "${watString(foreign)}")
  (data (i32.const 512) "${watString(alone)}")
  (data (i32.const 640) "${watString(low)}")
  (data (i32.const 768) "${watString(high)}")
  (func (export "proxy_abi_version_0_2_0"))
  (func (export "proxy_on_context_create") (param i32 i32)
    (global.set $heap (i32.const 4096)))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param $root i32) (param $size i32) (result i32)
    (local $at i32) (local $len i32) (local $i i32)
    ;; Our own root id, or refuse to configure.
    (if (call $get_property (i32.const 320) (i32.const ${rootProperty.length})
          (i32.const 0) (i32.const 4))
      (then (return (i32.const 0))))
    (local.set $at (i32.load (i32.const 0)))
    (local.set $len (i32.load (i32.const 4)))
    (if (i32.ne (local.get $len) (i32.const ${root.length}))
      (then (return (i32.const 0))))
    (block $same (loop $compare
      (br_if $same (i32.ge_u (local.get $i) (local.get $len)))
      (if (i32.ne (i32.load8_u (i32.add (local.get $at) (local.get $i)))
            (i32.load8_u (i32.add (i32.const 384) (local.get $i))))
        (then (return (i32.const 0))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $compare)))
    ;; The threshold: the configuration's first byte, a digit (none: 5).
    (global.set $threshold (i32.const 53))
    (if (i32.gt_u (local.get $size) (i32.const 0))
      (then
        (if (call $get_buffer (i32.const 7) (i32.const 0) (i32.const 1)
              (i32.const 8) (i32.const 12))
          (then (return (i32.const 0))))
        (local.set $at (i32.load8_u (i32.load (i32.const 8))))
        (if (i32.or (i32.lt_u (local.get $at) (i32.const 48))
              (i32.gt_u (local.get $at) (i32.const 57)))
          (then (return (i32.const 0))))
        (global.set $threshold (local.get $at))))
    (i32.const 1))
  (func (export "proxy_on_new_connection") (param i32) (result i32)
    (local $at i32) (local $i i32) (local $digit i32) (local $high i32)
    (if (call $get_property (i32.const 256) (i32.const ${source.length})
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
    (local.set $digit (i32.load8_u
      (i32.sub (i32.add (local.get $at) (local.get $i)) (i32.const 1))))
    (if (i32.eq (local.get $digit) (i32.const 48))
      (then
        (drop (call $log (i32.const 2) (i32.const 512) (i32.const ${alone.length})))
        (return (i32.const 0))))
    (local.set $high (i32.ge_u (local.get $digit) (global.get $threshold)))
    (drop (call $call_foreign (i32.const 448) (i32.const ${foreign.length})
      (select (i32.const 768) (i32.const 640) (local.get $high))
      (select (i32.const ${high.length}) (i32.const ${low.length}) (local.get $high))
      (i32.const 8) (i32.const 12)))
    (i32.const 0))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_delete") (param i32)))`;
}

/** The digit filter, compiled. */
export async function digitFilter(
  options: DigitFilterOptions = {},
): Promise<Uint8Array> {
  return await compileWat(digitFilterWat(options));
}
