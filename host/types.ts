/**
 * The types the host's parts share: how a VM and a connection are started,
 * the facts properties answer from, log lines, and host functions as the
 * linker offers them. Types only, so that every part can import them and none
 * imports another part just for a type.
 *
 * @module
 */
import type { LogLevel } from "./abi.ts";

/** One log line of the module, from `proxy_log`, stdout/stderr or the host. */
export interface LogEntry {
  /** How severe: trace, debug, info, warn, error or critical. */
  level: LogLevel;
  /** The line as the module wrote it (a trailing newline of stdout/stderr removed). */
  message: string;
  /** The context that was current (or effective) when the line was written. */
  contextId: number;
}

/** How to start a plugin. */
export interface VmOptions {
  /** The plugin's root_id (Envoy's `root_id`; property `plugin_root_id`). */
  rootId: string;
  /** PluginConfiguration buffer, readable during `proxy_on_configure` only. */
  configuration?: string | Uint8Array;
  /** VmConfiguration buffer (readable at any time, as in Envoy). */
  vmConfiguration?: string | Uint8Array;
  /** Property `plugin_name`; Envoy's default is empty. */
  pluginName?: string;
  /** Property `plugin_vm_id`; empty by default. */
  vmId?: string;
  /**
   * What `proxy_get_log_level` answers; lines below it are dropped. Default
   * `"info"`, Envoy's default log level.
   */
  logLevel?: LogLevel;
  /** Called with every kept log line as it is written (for a live data plane). */
  onLog?: (entry: LogEntry) => void;
  /**
   * Keep at most this many lines in `ProxyWasmVm.logs` (the oldest go
   * first). Unlimited by default; a long-running data plane sets it.
   */
  logCapacity?: number;
}

/** Addresses of a new connection, as Envoy would see them on the socket. */
export interface ConnectionOptions {
  /** Downstream peer, `"ip:port"` or `"[ipv6]:port"` (passed to the filter as given). */
  source: string;
  /** Local (or original destination) address, same forms. */
  destination: string;
  /** Envoy's connection id (`connection_id`, `connection.id`); a per-VM counter from 0 by default. */
  connectionId?: number | bigint;
}

/** The connection facts properties are answered from. */
export interface ConnectionFacts {
  /** Downstream peer address as given, normally `"ip:port"` or `"[ipv6]:port"`. */
  readonly source: string;
  /** Local (or original destination) address as given. */
  readonly destination: string;
  /** Envoy's connection id. */
  readonly connectionId: bigint;
  /** Values stored by `proxy_set_property`, by path. */
  readonly custom: Map<string, Uint8Array>;
}

/** The plugin facts every context answers. */
export interface PluginFacts {
  readonly rootId: Uint8Array;
  readonly pluginName: Uint8Array;
  readonly vmId: Uint8Array;
}

/** A module export called by the host. */
export type Callback = (...args: number[]) => number | undefined;

/** A host function: numbers in (bigint for i64), a number (i32) or nothing out. */
// deno-lint-ignore no-explicit-any
export type HostFunction = (...args: any[]) => number | void;

/** A host function as offered to the module. */
export interface HostImport {
  module: string;
  name: string;
  /** Signature as `(i32, i64) -> i32`. */
  signature: string;
  fn: HostFunction;
}
