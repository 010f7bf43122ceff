/**
 * The check a module passes before the tool writes it or hands it to Envoy or
 * a sidecar (`build`, `scaffold`, `up`): the proxy-wasm ABI marker, every
 * export Envoy needs, and a start in the host under the root id and
 * configuration the generated Envoy config names.
 */
import {
  ConfigurationRejectedError,
  ProxyWasmVm,
  WasmLoadError,
  WasmTrapError,
} from "../host/mod.ts";
import { UserError } from "./errors.ts";
import { loadFilter } from "./filter_module.ts";
import { rootIdTrap } from "./judge.ts";
import { ROOT_ID } from "./routing.ts";

/**
 * Exports Envoy needs from a network filter, each with the names that satisfy it.
 * `proxy_on_done` is not among them: without it proxy-wasm-cpp-host takes every
 * context as done (ContextBase::onDone returns true), so a connection goes on to
 * proxy_on_log and proxy_on_delete, and a root at shutdown straight to
 * proxy_on_delete (WasmBase::startShutdown).
 */
export const REQUIRED_EXPORTS: Record<string, string[]> = {
  "ABI version marker": [
    "proxy_abi_version_0_1_0",
    "proxy_abi_version_0_2_0",
    "proxy_abi_version_0_2_1",
  ],
  "allocator": ["malloc", "proxy_on_memory_allocate"],
  "context create": ["proxy_on_context_create"],
  "vm start": ["proxy_on_vm_start"],
  "configure": ["proxy_on_configure"],
  "new connection": ["proxy_on_new_connection"],
  "delete": ["proxy_on_delete"],
};

/** The proxy-wasm ABI version a module declares, such as "0.2.0", if any. */
export function abiVersion(module: WebAssembly.Module): string | undefined {
  const marker = WebAssembly.Module.exports(module)
    .map((entry) => entry.name.match(/^proxy_abi_version_(\d+)_(\d+)_(\d+)$/))
    .find((match) => match !== null);
  return marker ? marker.slice(1).join(".") : undefined;
}

/** Descriptions of the required exports a module lacks (empty when it has them all). */
export function missingExports(module: WebAssembly.Module): string[] {
  const names = new Set(
    WebAssembly.Module.exports(module).map((entry) => entry.name),
  );
  return Object.entries(REQUIRED_EXPORTS)
    .filter(([, accepted]) => !accepted.some((name) => names.has(name)))
    .map(([what, accepted]) => `${what} (${accepted.join(" or ")})`);
}

/**
 * Refuses (a UserError naming `what` and the fix) a module that Envoy would
 * not run as the generated config asks: not compilable, an export missing,
 * not starting under `rootId` (default {@link ROOT_ID}), or rejecting
 * `configuration`.
 */
export async function requireShippable(
  wasm: Uint8Array,
  what: string,
  configuration: string,
  rootId: string = ROOT_ID,
): Promise<void> {
  const refuse = (why: string): never => {
    throw new UserError(
      `refusing to ship ${what}: ${why} (nothing was written or started)`,
    );
  };
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>);
  } catch (error) {
    return refuse(
      `not a valid WebAssembly module (${(error as Error).message})`,
    );
  }
  const missing = missingExports(module);
  if (missing.length > 0) {
    return refuse(`it lacks exports Envoy needs: ${missing.join(", ")}`);
  }
  try {
    const vm = await ProxyWasmVm.load(module, {
      rootId,
      configuration,
    });
    vm.close();
  } catch (error) {
    if (error instanceof WasmLoadError) return refuse(error.message);
    if (error instanceof WasmTrapError) {
      return refuse(rootIdTrap(rootId, error));
    }
    if (error instanceof ConfigurationRejectedError) {
      return refuse(
        `it rejects the configuration ${JSON.stringify(configuration)}${
          rootId === ROOT_ID ? "" : ` under root id "${rootId}"`
        }: ${error.message}`,
      );
    }
    throw error;
  }
}

/**
 * The module at `path`, or the embedded filter when no path is given, after
 * {@link requireShippable}: every module, the embedded one included, starts
 * under `rootId` with `configuration` in the host before anything ships it.
 */
export async function loadShippableFilter(
  path: string | undefined,
  configuration: string,
  rootId: string = ROOT_ID,
): Promise<Uint8Array<ArrayBuffer>> {
  const wasm = await loadFilter(path);
  await requireShippable(
    wasm,
    path ?? "the embedded filter",
    configuration,
    rootId,
  );
  return wasm;
}
