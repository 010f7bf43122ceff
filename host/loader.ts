/**
 * Turning bytes into a module the host can start, with Envoy's words for
 * every refusal: compiling, the ABI version marker, the exports the host
 * needs, and linking the module's imports against the host functions.
 *
 * @module
 */
import { ABI_MARKERS, type AbiVersion } from "./abi.ts";
import { WasmLoadError } from "./errors.ts";
import { StartSectionCall } from "./traps.ts";
import type { HostFunction, HostImport } from "./types.ts";
import { functionImports } from "./wasm_binary.ts";

/** Compiles the module's bytes (a compiled module passes through). */
export async function compileModule(
  wasm: Uint8Array | WebAssembly.Module,
): Promise<WebAssembly.Module> {
  if (wasm instanceof WebAssembly.Module) return wasm;
  if (!(wasm instanceof Uint8Array)) {
    throw new WasmLoadError(
      "expected the module's bytes (Uint8Array) or a WebAssembly.Module",
    );
  }
  try {
    return await WebAssembly.compile(wasm as Uint8Array<ArrayBuffer>);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new WasmLoadError(
      `Failed to parse corrupted Wasm module: ${message}`,
    );
  }
}

/** The ABI version the module's marker export declares. */
export function abiVersionOf(module: WebAssembly.Module): AbiVersion {
  const markers = WebAssembly.Module.exports(module)
    .filter((e) =>
      e.kind === "function" && e.name.startsWith("proxy_abi_version_")
    )
    .map((e) => e.name);
  for (const marker of markers) {
    if (Object.hasOwn(ABI_MARKERS, marker)) {
      return ABI_MARKERS[marker as keyof typeof ABI_MARKERS];
    }
  }
  const seen = markers.length > 0
    ? ` (the module exports ${markers.join(", ")})`
    : "";
  throw new WasmLoadError(`Missing or unknown Proxy-Wasm ABI version${seen}`);
}

/**
 * The module's exports by name and kind, after checking the two the host
 * needs: an allocator and the memory. Returns the allocator's name too.
 */
export function checkedExports(
  module: WebAssembly.Module,
): { kinds: Map<string, string>; allocator: string } {
  const kinds = new Map<string, string>(
    WebAssembly.Module.exports(module).map((e) => [e.name, e.kind]),
  );
  const allocator = ["malloc", "proxy_on_memory_allocate"].find((name) =>
    kinds.get(name) === "function"
  );
  if (allocator === undefined) {
    throw new WasmLoadError("Wasm module is missing malloc function.");
  }
  if (kinds.get("memory") !== "memory") {
    throw new WasmLoadError(
      'Wasm module is missing its memory export "memory".',
    );
  }
  return { kinds, allocator };
}

/** The signatures the module declares for its function imports, by `module.name` (none when unreadable). */
function declaredSignatures(
  bytes: Uint8Array | undefined,
): Map<string, string> {
  if (bytes === undefined) return new Map();
  try {
    return new Map(
      functionImports(bytes).map((i) => [`${i.module}.${i.name}`, i.signature]),
    );
  } catch {
    // The compiler accepted the bytes; leave signatures unchecked.
    return new Map();
  }
}

/**
 * The import object for `module`: each import the host offers, wrapped by
 * `wrap`. A missing import, or one whose declared type differs from the
 * host's, is a WasmLoadError naming it.
 */
export function linkImports(
  module: WebAssembly.Module,
  bytes: Uint8Array | undefined,
  offered: readonly HostImport[],
  wrap: (key: string, fn: HostFunction) => HostFunction,
): WebAssembly.Imports {
  const byKey = new Map(offered.map((i) => [`${i.module}.${i.name}`, i]));
  const declared = declaredSignatures(bytes);
  const missing: string[] = [];
  const imports: Record<string, Record<string, WebAssembly.ImportValue>> = {};
  for (
    const { module: from, name, kind } of WebAssembly.Module.imports(module)
  ) {
    const key = `${from}.${name}`;
    const hostImport = kind === "function" ? byKey.get(key) : undefined;
    if (hostImport === undefined) {
      missing.push(kind === "function" ? key : `${key} (a ${kind})`);
      continue;
    }
    const wanted = declared.get(key);
    if (wanted !== undefined && wanted !== hostImport.signature) {
      throw new WasmLoadError(
        `Failed to load Wasm module due to an import type mismatch for ${key}: ` +
          `the module declares ${wanted}, the host provides ${hostImport.signature}`,
      );
    }
    (imports[from] ??= {})[name] = wrap(key, hostImport.fn);
  }
  if (missing.length > 0) {
    throw new WasmLoadError(
      `Failed to load Wasm module due to a missing import: ${
        missing.join(", ")
      }`,
    );
  }
  return imports;
}

/** The WasmLoadError for a failed instantiation (a start section that trapped or called the host). */
export function instantiationError(error: unknown): WasmLoadError {
  if (error instanceof StartSectionCall) {
    return new WasmLoadError(
      `Failed to instantiate the Wasm module: its start function called the host import ` +
        `${error.message}, which is not available before the VM starts`,
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  const trapped = error instanceof WebAssembly.RuntimeError;
  return new WasmLoadError(
    `Failed to instantiate the Wasm module: ${
      trapped ? "its start function trapped: " : ""
    }${message}`,
  );
}
