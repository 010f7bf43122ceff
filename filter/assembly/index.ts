// Entry points of the Wasmerang TCP filter.
//
// The SDK's root-level entry points are exported as they are. The connection-level ones
// are written here: SDK 0.1.8 has no TCP entry points, its getContext() downcast leaks
// memory on every call, and a subclass method is not reached through a Context-typed
// reference under this AssemblyScript runtime, so each hook calls the concrete class.
// A connection needs no object of its own.
export {
  proxy_on_foreign_function,
  proxy_on_queue_ready,
  proxy_on_vm_start,
} from "@solo-io/proxy-runtime/exports";
export { malloc } from "./envoy";
import {
  proxy_on_delete as deleteRootContext,
  proxy_on_done as rootOnDone,
} from "@solo-io/proxy-runtime/exports";
import {
  ensureRootContext,
  getBaseContext,
  registerRootContext,
  RootContext,
} from "@solo-io/proxy-runtime/runtime";
import { ParityRoot, ROOT_ID } from "./filter";

/** ABI 0.2.1: the one that offers proxy_get_log_level. */
export function proxy_abi_version_0_2_1(): void {}

registerRootContext((id: u32): RootContext => new ParityRoot(id), ROOT_ID);

/** This VM's root contexts: one per plugin configuration sharing the VM, nearly always one. */
const roots = new Array<u32>();
/** Each connection's root context id, kept only while the VM has more than one root. */
const connectionRoots = new Map<u32, u32>();

function rootOf(rootContextId: u32): ParityRoot {
  return changetype<ParityRoot>(getBaseContext(rootContextId));
}

export function proxy_on_context_create(
  contextId: u32,
  rootContextId: u32,
): void {
  if (rootContextId == 0) {
    ensureRootContext(contextId);
    roots.push(contextId);
  } else if (roots.length > 1) {
    connectionRoots.set(contextId, rootContextId);
  }
}

export function proxy_on_configure(
  rootContextId: u32,
  configurationSize: u32,
): u32 {
  return rootOf(rootContextId).configure(configurationSize) ? 1 : 0;
}

export function proxy_on_tick(rootContextId: u32): void {
  rootOf(rootContextId).onTick();
}

// The proxy calls proxy_on_new_connection right after the connection's
// proxy_on_context_create, so a VM with one root needs no per-connection lookup.
export function proxy_on_new_connection(contextId: u32): u32 {
  let root = roots[0];
  if (roots.length > 1) root = connectionRoots.get(contextId);
  return rootOf(root).onNewConnection(contextId);
}

// Data, close and log events need nothing from this filter, so it does not export their
// hooks: the proxy then skips the call into the VM for every chunk and close (Envoy and
// proxy-wasm hosts treat a missing hook as Continue).

export function proxy_on_done(contextId: u32): u32 {
  return roots.includes(contextId) ? rootOnDone(contextId) : 1;
}

export function proxy_on_delete(contextId: u32): void {
  const root = roots.indexOf(contextId);
  if (root >= 0) {
    roots.splice(root, 1);
    deleteRootContext(contextId);
  } else if (connectionRoots.has(contextId)) {
    connectionRoots.delete(contextId);
  }
}
