/**
 * A small reader for the two sections the linker checks: types and imports.
 * WebAssembly's JS API does not say an import's signature, and a JS function
 * accepts any; reading them from the bytes lets the host refuse a mismatch at
 * load time, as Envoy's engines do.
 *
 * @module
 */

/** One function import with its signature, e.g. `(i32, i32) -> i32`. */
export interface FunctionImport {
  module: string;
  name: string;
  signature: string;
}

const VALUE_TYPES: Record<number, string> = {
  0x7f: "i32",
  0x7e: "i64",
  0x7d: "f32",
  0x7c: "f64",
  0x7b: "v128",
  0x70: "funcref",
  0x6f: "externref",
};

/** Formats a signature the way the host's table and error messages spell it. */
export function formatSignature(
  params: readonly string[],
  results: readonly string[],
): string {
  return `(${params.join(", ")}) -> ${
    results.length === 0 ? "void" : results.join(", ")
  }`;
}

class Cursor {
  offset = 0;
  constructor(readonly bytes: Uint8Array, readonly end = bytes.length) {}

  byte(): number {
    if (this.offset >= this.end) throw new Error("unexpected end of section");
    return this.bytes[this.offset++];
  }

  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = this.byte();
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new Error("malformed LEB128");
    }
  }

  name(): string {
    const length = this.u32();
    const start = this.offset;
    this.offset += length;
    if (this.offset > this.end) throw new Error("unexpected end of section");
    return new TextDecoder().decode(this.bytes.subarray(start, this.offset));
  }

  limits(): void {
    const flags = this.byte();
    this.u32();
    if (flags & 1) this.u32();
  }
}

/**
 * The function imports of a module with their signatures. Throws on bytes
 * that are not a wasm module (the compiler reports those better).
 *
 * @example
 * ```ts
 * import { functionImports } from "./wasm_binary.ts";
 * functionImports(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])); // []
 * ```
 */
export function functionImports(bytes: Uint8Array): FunctionImport[] {
  const header = [0x00, 0x61, 0x73, 0x6d];
  if (bytes.length < 8 || header.some((byte, i) => bytes[i] !== byte)) {
    throw new Error("not a WebAssembly module");
  }
  const types: string[] = [];
  const imports: FunctionImport[] = [];
  const top = new Cursor(bytes);
  top.offset = 8;
  while (top.offset < bytes.length) {
    const id = top.byte();
    const size = top.u32();
    const section = new Cursor(bytes, top.offset + size);
    section.offset = top.offset;
    top.offset += size;
    if (id === 1) {
      const count = section.u32();
      for (let i = 0; i < count; i++) {
        const form = section.byte();
        if (form !== 0x60) {
          throw new Error(`unsupported type form 0x${form.toString(16)}`);
        }
        const params = Array.from(
          { length: section.u32() },
          () => valueType(section.byte()),
        );
        const results = Array.from(
          { length: section.u32() },
          () => valueType(section.byte()),
        );
        types.push(formatSignature(params, results));
      }
    } else if (id === 2) {
      const count = section.u32();
      for (let i = 0; i < count; i++) {
        const module = section.name();
        const name = section.name();
        const kind = section.byte();
        if (kind === 0) {
          imports.push({
            module,
            name,
            signature: types[section.u32()] ?? "(?)",
          });
        } else if (kind === 1) {
          section.byte();
          section.limits();
        } else if (kind === 2) {
          section.limits();
        } else if (kind === 3) {
          section.byte();
          section.byte();
        } else {
          section.u32();
        }
      }
      return imports;
    }
  }
  return imports;
}

function valueType(code: number): string {
  return VALUE_TYPES[code] ?? `0x${code.toString(16)}`;
}
