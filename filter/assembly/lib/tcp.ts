// Wasmerang's filter library for TCP (L4) filters on @solo-io/proxy-runtime 0.1.8 and
// AssemblyScript 0.17.14. `wasmerang new` copies this folder into a filter project;
// the tool's own filter imports the same files. Do not edit a copy: a newer tool
// writes a newer one.
//
// What the SDK lacks or gets wrong, and what this module does instead:
// - It exports no TCP entry points, and a star export of its entry points brings its
//   proxy_on_log, whose getContext() downcast leaks memory on every connection. The
//   root-level entry points are exported here selectively; the entry file re-exports
//   them and writes the connection-level ones with rootOf<ItsRoot>().
// - A subclass's method is not reached through a Context-typed reference under this
//   runtime, and a checked downcast leaks: rootOf<R>() is a changetype, so each hook
//   calls the concrete class.
// - Its onConfigure passes a size where a pointer belongs: readConfiguration() reads
//   the plugin configuration itself.
// - Its get_property throws (and kills the VM) on a missing property: see ./host
//   (readProperty, stringProperty, integerProperty); and it has no foreign function
//   call: see ./host FilterStateArguments and ClusterSetter below.
// - ABI 0.2.1's proxy_get_log_level: LogLevelWatch re-reads it on every tick.
import * as imports from "@solo-io/proxy-runtime/imports";
import {
  proxy_on_delete as deleteRootContext,
  proxy_on_done as rootOnDone,
} from "@solo-io/proxy-runtime/exports";
import {
  BufferTypeValues,
  ensureRootContext,
  get_buffer_bytes,
  getBaseContext,
} from "@solo-io/proxy-runtime/runtime";
import { debugEnabled, FilterStateArguments } from "./host";

/** This library's version: `wasmerang new` records it in wasmerang.json. */
export const LIBRARY_VERSION = "0.1.0";

export {
  proxy_on_foreign_function,
  proxy_on_queue_ready,
  proxy_on_vm_start,
} from "@solo-io/proxy-runtime/exports";
export { malloc } from "./host";

/** ABI 0.2.1: the one that offers proxy_get_log_level. */
export function proxy_abi_version_0_2_1(): void {}

/** This VM's root contexts: one per plugin configuration sharing the VM, nearly always one. */
const roots = new Array<u32>();
/** Each connection's root context id, kept only while the VM has more than one root. */
const connectionRoots = new Map<u32, u32>();

/** The root context `id` as the filter's own class `R`: a changetype, no checked downcast. */
export function rootOf<R>(id: u32): R {
  return changetype<R>(getBaseContext(id));
}

/**
 * The root context id of connection `contextId`. The proxy calls
 * proxy_on_new_connection right after the connection's proxy_on_context_create, so
 * a VM with one root needs no per-connection lookup.
 */
export function connectionRoot(contextId: u32): u32 {
  let root = roots[0];
  if (roots.length > 1) root = connectionRoots.get(contextId);
  return root;
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

// Data, close and log events need nothing from a filter that decides at the start of a
// connection, so these hooks are not exported: the proxy then skips the call into the
// VM for every chunk and close (Envoy and proxy-wasm hosts treat a missing hook as
// Continue).

/** Root contexts whose proxy_on_done has run and that the proxy has not yet deleted. */
const doneRoots = new Array<u32>();

// Only a root context has anything to do when it is done. An entry file may leave
// proxy_on_done out: the proxy then takes every context as done (one call into the VM
// less per connection, about 1,600 instructions in Envoy 1.40), and proxy_on_delete does the
// root's done work first, as the proxy deletes a root right after a done that says so.
export function proxy_on_done(contextId: u32): u32 {
  if (!roots.includes(contextId)) return 1;
  doneRoots.push(contextId);
  return rootOnDone(contextId);
}

export function proxy_on_delete(contextId: u32): void {
  const root = roots.indexOf(contextId);
  if (root >= 0) {
    const done = doneRoots.indexOf(contextId);
    if (done >= 0) doneRoots.splice(done, 1);
    else rootOnDone(contextId);
    roots.splice(root, 1);
    deleteRootContext(contextId);
  } else if (connectionRoots.size > 0 && connectionRoots.has(contextId)) {
    connectionRoots.delete(contextId);
  }
}

/** The plugin configuration as text (what proxy_on_configure's size describes). */
export function readConfiguration(configurationSize: u32): string {
  const bytes = get_buffer_bytes(
    BufferTypeValues.PluginConfiguration,
    0,
    configurationSize,
  );
  return String.UTF8.decode(bytes);
}

/** How often the log level is asked again, so that a change on a running proxy takes effect. */
const LOG_LEVEL_PERIOD_MS: u32 = 1000;

/**
 * Whether the proxy logs debug lines, kept current: start() at configure asks and
 * arms the tick; the entry file's proxy_on_tick calls refresh().
 */
export class LogLevelWatch {
  debug: bool = false;

  start(): void {
    this.debug = debugEnabled();
    imports.proxy_set_tick_period_milliseconds(LOG_LEVEL_PERIOD_MS);
  }

  refresh(): void {
    this.debug = debugEnabled();
  }
}

/** The filter state key tcp_proxy reads its cluster from. */
export const TCP_PROXY_CLUSTER = "envoy.tcp_proxy.cluster";

/**
 * Sets tcp_proxy's cluster for the current connection by name, each name's
 * set_envoy_filter_state arguments encoded once and kept.
 */
export class ClusterSetter {
  encoded: Map<string, FilterStateArguments> = new Map();

  /** The proxy's result: 0 (Ok) when tcp_proxy will use `name`. */
  apply(name: string): u32 {
    if (!this.encoded.has(name)) {
      this.encoded.set(
        name,
        new FilterStateArguments(TCP_PROXY_CLUSTER, name, "", -1),
      );
    }
    return this.encoded.get(name).apply();
  }
}
