// Entry points of the Wasmerang TCP filter (the parity router).
//
// The root-level entry points and the context bookkeeping come from the filter
// library (./lib/tcp), exported selectively. The ones that reach this filter's own
// class are written here, each calling the concrete class: SDK 0.1.8 has no TCP entry
// points, its getContext() downcast leaks memory on every call, and a subclass method
// is not reached through a Context-typed reference under this AssemblyScript runtime.
// A connection needs no object of its own.
export {
  malloc,
  proxy_abi_version_0_2_1,
  proxy_on_context_create,
  proxy_on_delete,
  proxy_on_foreign_function,
  proxy_on_queue_ready,
  proxy_on_vm_start,
} from "./lib/tcp";
import {
  registerRootContext,
  RootContext,
} from "@solo-io/proxy-runtime/runtime";
import { connectionRoot, rootOf } from "./lib/tcp";
import { ParityRoot, ROOT_ID } from "./filter";

registerRootContext((id: u32): RootContext => new ParityRoot(id), ROOT_ID);

export function proxy_on_configure(
  rootContextId: u32,
  configurationSize: u32,
): u32 {
  return rootOf<ParityRoot>(rootContextId).configure(configurationSize) ? 1 : 0;
}

export function proxy_on_tick(rootContextId: u32): void {
  rootOf<ParityRoot>(rootContextId).onTick();
}

export function proxy_on_new_connection(contextId: u32): u32 {
  return rootOf<ParityRoot>(connectionRoot(contextId)).onNewConnection(
    contextId,
  );
}
