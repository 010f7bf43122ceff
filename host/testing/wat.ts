/**
 * Tiny proxy-wasm modules for the host's tests, written in WebAssembly text
 * and compiled with wabt. {@link TestModule} adds what every proxy-wasm module
 * needs (memory, a bump `malloc`, the ABI marker) and two helpers the test
 * modules log through:
 *
 * - `(call $note <tag> a b)` logs `"tag a b"` (decimal u32s) at info;
 * - `(call $report <tag> rc ptr len)` logs `"tag rc <hex of len bytes at ptr>"`.
 *
 * `<tag>` is `module.str("text")`, which expands to `(i32.const ptr) (i32.const len)`.
 *
 * @example
 * ```ts
 * import { TestModule } from "./wat.ts";
 * const m = new TestModule("0_2_0");
 * m.body(`(func (export "proxy_on_new_connection") (param i32) (result i32)
 *   (call $note ${m.str("new")} (local.get 0) (i32.const 0)) (i32.const 0))`);
 * const wasm = await m.build();
 * ```
 * @module
 */
import wabtInit from "wabt";
import { proxyImports } from "../imports.ts";
import type { HostRuntime } from "../runtime.ts";
import { wasiImports } from "../wasi.ts";

type Wabt = Awaited<ReturnType<typeof wabtInit>>;
let wabt: Promise<Wabt> | undefined;

/** `bytes` as the contents of a WAT string literal (`\\xx` each), e.g. for `(data …)`. */
export function watString(bytes: Uint8Array): string {
  return [...bytes].map((b) => `\\${b.toString(16).padStart(2, "0")}`).join("");
}

/** Compiles WebAssembly text to a binary module. */
export async function compileWat(source: string): Promise<Uint8Array> {
  wabt ??= wabtInit();
  const module = (await wabt).parseWat("test.wat", source, {
    bulk_memory: true,
  });
  try {
    return new Uint8Array(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}

/** The host's own signature of an import, as WAT `(param …) (result …)`. */
export function importType(module: string, name: string): string {
  const fake = { abiVersion: "0.2.1" } as unknown as HostRuntime;
  const all = [...proxyImports(fake), ...wasiImports(fake)];
  const found = all.find((i) => i.module === module && i.name === name) ??
    (name === "proxy_get_configuration"
      ? { signature: "(i32, i32) -> i32" }
      : name.startsWith("proxy_continue_") || name === "proxy_clear_route_cache"
      ? { signature: "() -> i32" }
      : undefined);
  if (found === undefined) throw new Error(`no host import ${module}.${name}`);
  const [params, result] = found.signature.split(" -> ");
  const list = params.slice(1, -1).replaceAll(",", "");
  return `${list ? `(param ${list})` : ""} ${
    result === "void" ? "" : `(result ${result})`
  }`;
}

/** A proxy-wasm test module under construction. */
export class TestModule {
  #abi: string | null;
  #imports = new Set<string>(["env.proxy_log"]);
  #data: string[] = [];
  #next = 1024;
  #body: string[] = [];

  /** @param abi ABI marker suffix (`"0_2_0"`), or null for no marker. */
  constructor(abi: string | null = "0_2_0") {
    this.#abi = abi;
  }

  /** Imports `module.name` as `$name` with the host's signature. */
  import(name: string, module = "env"): this {
    this.#imports.add(`${module}.${name}`);
    return this;
  }

  /** Places `text` (or bytes) in memory; returns `(i32.const ptr) (i32.const len)`. */
  str(text: string | Uint8Array): string {
    const bytes = typeof text === "string"
      ? new TextEncoder().encode(text)
      : text;
    const pointer = this.#next;
    this.#data.push(`(data (i32.const ${pointer}) "${watString(bytes)}")`);
    this.#next += bytes.length + 8 - (bytes.length % 8);
    if (this.#next >= 8192) throw new Error("test module data too large");
    return `(i32.const ${pointer}) (i32.const ${bytes.length})`;
  }

  /** Adds module fields (functions, exports) in WAT. */
  body(wat: string): this {
    this.#body.push(wat);
    return this;
  }

  /** The whole module text. */
  text(): string {
    const imports = [...this.#imports].map((key) => {
      const [module, name] = key.split(".");
      return `(import "${module}" "${name}" (func $${name} ${
        importType(module, name)
      }))`;
    });
    return `(module
  ${imports.join("\n  ")}
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 16384))
  (func $malloc (export "malloc") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p)
      (i32.and (i32.add (local.get $n) (i32.const 7)) (i32.const -8))))
    (local.get $p))
  ${
      this.#abi === null
        ? ""
        : `(func (export "proxy_abi_version_${this.#abi}"))`
    }
  ${HELPERS}
  ${this.#data.join("\n  ")}
  ${this.#body.join("\n  ")}
)`;
  }

  /** Compiles the module. */
  build(): Promise<Uint8Array> {
    return compileWat(this.text());
  }
}

const HELPERS = `
  (func $hexdigit (param $d i32) (result i32)
    (select (i32.add (local.get $d) (i32.const 48)) (i32.add (local.get $d) (i32.const 87))
      (i32.lt_u (local.get $d) (i32.const 10))))
  (func $put_u32 (param $at i32) (param $v i32) (result i32)
    (local $len i32) (local $t i32) (local $i i32)
    (local.set $t (local.get $v))
    (local.set $len (i32.const 1))
    (block $done (loop $count
      (br_if $done (i32.lt_u (local.get $t) (i32.const 10)))
      (local.set $t (i32.div_u (local.get $t) (i32.const 10)))
      (local.set $len (i32.add (local.get $len) (i32.const 1)))
      (br $count)))
    (local.set $i (local.get $len))
    (loop $write
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (i32.store8 (i32.add (local.get $at) (local.get $i))
        (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
      (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
      (br_if $write (i32.gt_u (local.get $i) (i32.const 0))))
    (i32.add (local.get $at) (local.get $len)))
  (func $put_hex (param $at i32) (param $ptr i32) (param $len i32) (result i32)
    (local $b i32)
    (block $done (loop $next
      (br_if $done (i32.eqz (local.get $len)))
      (local.set $b (i32.load8_u (local.get $ptr)))
      (i32.store8 (local.get $at) (call $hexdigit (i32.shr_u (local.get $b) (i32.const 4))))
      (i32.store8 (i32.add (local.get $at) (i32.const 1))
        (call $hexdigit (i32.and (local.get $b) (i32.const 15))))
      (local.set $at (i32.add (local.get $at) (i32.const 2)))
      (local.set $ptr (i32.add (local.get $ptr) (i32.const 1)))
      (local.set $len (i32.sub (local.get $len) (i32.const 1)))
      (br $next)))
    (local.get $at))
  (func $put_str (param $at i32) (param $ptr i32) (param $len i32) (result i32)
    (memory.copy (local.get $at) (local.get $ptr) (local.get $len))
    (i32.add (local.get $at) (local.get $len)))
  (func $put_space (param $at i32) (result i32)
    (i32.store8 (local.get $at) (i32.const 32))
    (i32.add (local.get $at) (i32.const 1)))
  (func $emit (param $end i32)
    (drop (call $proxy_log (i32.const 2) (i32.const 8192) (i32.sub (local.get $end) (i32.const 8192)))))
  (func $note (param $tag i32) (param $taglen i32) (param $a i32) (param $b i32)
    (local $end i32)
    (local.set $end (call $put_space (call $put_str (i32.const 8192) (local.get $tag) (local.get $taglen))))
    (local.set $end (call $put_space (call $put_u32 (local.get $end) (local.get $a))))
    (call $emit (call $put_u32 (local.get $end) (local.get $b))))
  (func $report (param $tag i32) (param $taglen i32) (param $rc i32) (param $ptr i32) (param $len i32)
    (local $end i32)
    (local.set $end (call $put_space (call $put_str (i32.const 8192) (local.get $tag) (local.get $taglen))))
    (local.set $end (call $put_space (call $put_u32 (local.get $end) (local.get $rc))))
    (call $emit (call $put_hex (local.get $end) (local.get $ptr) (local.get $len))))
`;

/** Log messages of `entries`, for short assertions. */
export function messages(entries: readonly { message: string }[]): string[] {
  return entries.map((entry) => entry.message);
}

/** Hex of UTF-8 text, to compare with `$report` output. */
export function hex(text: string | Uint8Array): string {
  const bytes = typeof text === "string"
    ? new TextEncoder().encode(text)
    : text;
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}
