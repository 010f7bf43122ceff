// Entry points of the Wasmerang TCP filter.
//
// The SDK's root-level entry points are exported as they are. The connection-level ones
// are written here: SDK 0.1.8 has no TCP entry points, its getContext() downcast leaks
// memory on every call, and a subclass method is not reached through a Context-typed
// reference under this AssemblyScript runtime, so each hook calls the concrete class.
export {
  proxy_abi_version_0_2_0,
  proxy_on_foreign_function,
  proxy_on_queue_ready,
  proxy_on_tick,
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
import { ParityRoot, ParityStream, ROOT_ID } from "./filter";

registerRootContext((id: u32): RootContext => new ParityRoot(id), ROOT_ID);

const streams = new Map<u32, ParityStream>();

export function proxy_on_context_create(
  contextId: u32,
  rootContextId: u32,
): void {
  if (rootContextId == 0) {
    ensureRootContext(contextId);
    return;
  }
  const root = changetype<ParityRoot>(getBaseContext(rootContextId));
  streams.set(contextId, new ParityStream(contextId, root));
}

export function proxy_on_configure(
  rootContextId: u32,
  configurationSize: u32,
): u32 {
  return changetype<ParityRoot>(getBaseContext(rootContextId)).configure(
      configurationSize,
    )
    ? 1
    : 0;
}

export function proxy_on_new_connection(contextId: u32): u32 {
  return streams.get(contextId).onNewConnection();
}

export function proxy_on_downstream_data(
  contextId: u32,
  dataSize: u32,
  endOfStream: u32,
): u32 {
  return streams.get(contextId).onDownstreamData(dataSize, endOfStream != 0);
}

export function proxy_on_upstream_data(
  contextId: u32,
  dataSize: u32,
  endOfStream: u32,
): u32 {
  return streams.get(contextId).onUpstreamData(dataSize, endOfStream != 0);
}

export function proxy_on_downstream_connection_close(
  contextId: u32,
  peerType: u32,
): void {
  streams.get(contextId).onDownstreamConnectionClose(peerType);
}

export function proxy_on_upstream_connection_close(
  contextId: u32,
  peerType: u32,
): void {
  streams.get(contextId).onUpstreamConnectionClose(peerType);
}

export function proxy_on_done(contextId: u32): u32 {
  return streams.has(contextId) ? 1 : rootOnDone(contextId);
}

export function proxy_on_log(contextId: u32): void {}

export function proxy_on_delete(contextId: u32): void {
  if (streams.has(contextId)) streams.delete(contextId);
  else deleteRootContext(contextId);
}
