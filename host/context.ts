/**
 * Per-context state the host keeps beside the module's own: the root context
 * (one per VM) and one stream context per connection.
 *
 * @module
 */
import type { ConnectionFacts, LogEntry } from "./types.ts";

/** The state of one context. */
export class ContextState {
  /** Context id: 1 for the root, 2, 3, … for connections (0 is the VM context). */
  readonly id: number;
  /** Root context id for a connection, 0 for the root itself. */
  readonly parentId: number;
  /** Connection facts; undefined for the root context. */
  readonly facts: ConnectionFacts | undefined;
  /** This context's log lines. */
  readonly logs: LogEntry[] = [];
  /** What `set_envoy_filter_state` stored, by key. */
  readonly filterState: Map<string, string> = new Map();
  /** Metric changes made while this context was current, by metric name. */
  readonly metricDeltas: Map<string, number> = new Map();
  /** `proxy_close_stream` calls seen. */
  readonly closeRequested = { downstream: false, upstream: false };
  /** Whether `proxy_continue_stream(Downstream)` was called. */
  continueRequested = false;
  /** The data of the running `proxy_on_downstream_data`, else null. */
  downstreamData: Uint8Array | null = null;
  /** The data of the running `proxy_on_upstream_data`, else null. */
  upstreamData: Uint8Array | null = null;
  /** Whether the PluginConfiguration buffer is readable (root, during configure). */
  pluginConfigurationVisible = false;
  /** Whether `proxy_on_context_create` ran for this context. */
  createdInVm = false;

  constructor(id: number, parentId: number, facts?: ConnectionFacts) {
    this.id = id;
    this.parentId = parentId;
    this.facts = facts;
  }
}
