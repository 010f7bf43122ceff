/**
 * The filter module the tool carries, and loading a module the user names
 * instead. The embedded bytes come from `wasmerang build --embed`; a test keeps
 * them identical to what filter/ builds to today.
 */
import { fileErrorReason, UserError } from "./errors.ts";
import { FILTER_WASM_BASE64 } from "./filter_wasm.generated.ts";

let embedded: Uint8Array<ArrayBuffer> | undefined;

/**
 * The built filter embedded in the tool.
 *
 * @example
 * ```ts
 * import { embeddedFilter } from "./filter_module.ts";
 * WebAssembly.validate(embeddedFilter()); // true
 * ```
 */
export function embeddedFilter(): Uint8Array<ArrayBuffer> {
  embedded ??= Uint8Array.from(
    atob(FILTER_WASM_BASE64),
    (c) => c.charCodeAt(0),
  );
  return embedded;
}

/** The module at `path`, or the embedded filter when no path is given. */
export async function loadFilter(
  path?: string,
): Promise<Uint8Array<ArrayBuffer>> {
  if (path === undefined) return embeddedFilter();
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    const fix = error instanceof Deno.errors.NotFound
      ? `build one with 'wasmerang build --out ${path}'`
      : "give the path of a .wasm file you can read";
    throw new UserError(
      `cannot read ${path}: ${fileErrorReason(error)} (${fix})`,
    );
  }
  if (!WebAssembly.validate(bytes)) {
    throw new UserError(`${path} is not a valid WebAssembly module`);
  }
  return bytes;
}
