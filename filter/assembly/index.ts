// Entry points of the Wasmerang TCP filter.
//
// The SDK's root-level entry points are exported as they are. The connection-level ones
// are written here: SDK 0.1.8 has no TCP entry points, its getContext() downcast leaks
// memory on every call, and a subclass method is not reached through a Context-typed
// reference under this AssemblyScript runtime, so each hook calls the concrete class.
// A connection needs no object of its own: the filter keeps only its root context's id.
export {
  proxy_on_foreign_function,
  proxy_on_queue_ready,
  proxy_on_vm_start,
} from "@solo-io/proxy-runtime/exports";
export { malloc } from "@solo-io/proxy-runtime/malloc";
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

/** Each open connection's root context id. */
const connections = new Map<u32, u32>();

function rootOf(rootContextId: u32): ParityRoot {
  return changetype<ParityRoot>(getBaseContext(rootContextId));
}

export function proxy_on_context_create(
  contextId: u32,
  rootContextId: u32,
): void {
  if (rootContextId == 0) {
    ensureRootContext(contextId);
    return;
  }
  connections.set(contextId, rootContextId);
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

export function proxy_on_new_connection(contextId: u32): u32 {
  return rootOf(connections.get(contextId)).onNewConnection(contextId);
}

// Data and close events need nothing from this filter: answer them without the SDK's debug logging.
export function proxy_on_downstream_data(
  contextId: u32,
  dataSize: u32,
  endOfStream: u32,
): u32 {
  return 0; // Continue
}

export function proxy_on_upstream_data(
  contextId: u32,
  dataSize: u32,
  endOfStream: u32,
): u32 {
  return 0; // Continue
}

export function proxy_on_downstream_connection_close(
  contextId: u32,
  peerType: u32,
): void {}

export function proxy_on_upstream_connection_close(
  contextId: u32,
  peerType: u32,
): void {}

export function proxy_on_done(contextId: u32): u32 {
  return connections.has(contextId) ? 1 : rootOnDone(contextId);
}

export function proxy_on_log(contextId: u32): void {}

export function proxy_on_delete(contextId: u32): void {
  if (connections.has(contextId)) connections.delete(contextId);
  else deleteRootContext(contextId);
}
