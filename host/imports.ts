/**
 * The `env.proxy_*` host functions, answering as Envoy does for a network
 * filter, and the table of which ABI version offers which.
 *
 * @module
 */
import {
  BUFFER_TYPE_MAX,
  BufferType,
  HEADER_MAP_TYPE_MAX,
  StreamType,
  WasmResult,
} from "./abi.ts";
import type { ContextState } from "./context.ts";
import {
  compress,
  type ForeignOutcome,
  isWellFormedProtobuf,
  setEnvoyFilterState,
  uncompress,
} from "./foreign.ts";
import { fromUtf8 } from "./memory.ts";
import { getProperty } from "./properties.ts";
import {
  type HostFunction,
  type HostImport,
  type HostRuntime,
  signature,
} from "./runtime.ts";

const EMPTY = new Uint8Array(0);
const OK = WasmResult.Ok;
const BAD = WasmResult.BadArgument;
const NOT_FOUND = WasmResult.NotFound;
const MEMORY = WasmResult.InvalidMemoryAccess;

/** The buffer a context sees for `type`: undefined is NotFound, null BadArgument. */
function bufferOf(
  rt: HostRuntime,
  context: ContextState,
  type: number,
): Uint8Array | undefined {
  switch (type) {
    case BufferType.NetworkDownstreamData:
      return context.downstreamData ?? EMPTY;
    case BufferType.NetworkUpstreamData:
      return context.upstreamData ?? EMPTY;
    case BufferType.VmConfiguration:
      return rt.vmConfiguration;
    case BufferType.PluginConfiguration:
      return context.pluginConfigurationVisible
        ? rt.pluginConfiguration
        : undefined;
    case BufferType.HttpCallResponseBody:
      return undefined;
    default:
      // HTTP bodies, gRPC receive buffer and call data: empty in a network filter.
      return EMPTY;
  }
}

/** Envoy's network-buffer `copyFrom`: prepend, replace whole, or append. */
function spliceBuffer(
  current: Uint8Array,
  start: number,
  length: number,
  data: Uint8Array,
): Uint8Array | undefined {
  const join = (a: Uint8Array, b: Uint8Array) => {
    const out = new Uint8Array(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
  };
  if (start === 0) {
    if (length === 0) return join(data, current);
    if (length >= current.length) return data;
    return undefined;
  }
  if (start >= current.length) return join(current, data);
  return undefined;
}

const FOREIGN = new Map<
  string,
  (rt: HostRuntime, args: Uint8Array) => ForeignOutcome
>([
  ["set_envoy_filter_state", (rt, args) => {
    const context = rt.current();
    const sink = context.facts === undefined
      ? undefined
      : (key: string, value: string) =>
        void context.filterState.set(key, value);
    return setEnvoyFilterState(args, sink);
  }],
  ["compress", (_rt, args) => compress(args)],
  ["uncompress", (_rt, args) => uncompress(args)],
]);

/** Every `env` function for `rt`'s ABI version (plus `pthread_equal` and friends). */
export function proxyImports(rt: HostRuntime): HostImport[] {
  const mem = () => rt.memory;
  const imports: HostImport[] = [];
  const add = (
    name: string,
    params: string,
    result: "i" | "v",
    fn: HostFunction,
  ) =>
    imports.push({
      module: "env",
      name,
      signature: signature(params, result),
      fn,
    });

  add(
    "proxy_log",
    "iii",
    "i",
    (level: number, pointer: number, size: number) => {
      if (level >>> 0 > 5) return BAD;
      const message = mem().readString(pointer, size);
      if (message === undefined) return MEMORY;
      rt.log(rt.effective(), level, message);
      return OK;
    },
  );

  add(
    "proxy_get_status",
    "iii",
    "i",
    (codePointer: number, pointer: number, size: number) => {
      if (!mem().writeU32(codePointer, 0)) return MEMORY;
      return mem().copyToPointerSize(EMPTY, pointer, size) ? OK : MEMORY;
    },
  );

  add(
    "proxy_set_property",
    "iiii",
    "i",
    (kp: number, ks: number, vp: number, vs: number) => {
      const key = mem().readString(kp, ks);
      const value = mem().read(vp, vs);
      if (key === undefined || value === undefined) return MEMORY;
      const facts = rt.effective().facts;
      if (facts === undefined) return NOT_FOUND;
      facts.custom.set(key, value);
      return OK;
    },
  );

  add(
    "proxy_get_property",
    "iiii",
    "i",
    (pp: number, ps: number, vpp: number, vsp: number) => {
      const path = mem().readString(pp, ps);
      if (path === undefined) return MEMORY;
      const answer = getProperty(path, rt.plugin, rt.effective().facts);
      if (answer.result !== OK) return answer.result;
      return mem().copyToPointerSize(answer.value!, vpp, vsp) ? OK : MEMORY;
    },
  );

  add("proxy_send_local_response", "iiiiiiii", "i", (
    _code: number,
    dp: number,
    ds: number,
    bp: number,
    bs: number,
    hp: number,
    hs: number,
  ) => {
    if (
      !mem().contains(dp, ds) || !mem().contains(bp, bs) ||
      !mem().contains(hp, hs)
    ) {
      return MEMORY;
    }
    return OK; // No HTTP stream to answer in a network filter.
  });

  // Shared data and queues.
  add("proxy_get_shared_data", "iiiii", "i", (
    kp: number,
    ks: number,
    vpp: number,
    vsp: number,
    casPointer: number,
  ) => {
    const key = mem().readString(kp, ks);
    if (key === undefined) return MEMORY;
    const entry = rt.sharedData.get(key);
    if (entry.result !== OK) return entry.result;
    if (!mem().copyToPointerSize(entry.value!, vpp, vsp)) return MEMORY;
    return mem().writeU32(casPointer, entry.cas!) ? OK : MEMORY;
  });
  add("proxy_set_shared_data", "iiiii", "i", (
    kp: number,
    ks: number,
    vp: number,
    vs: number,
    cas: number,
  ) => {
    const key = mem().readString(kp, ks);
    const value = mem().read(vp, vs);
    if (key === undefined || value === undefined) return MEMORY;
    return rt.sharedData.set(key, value, cas >>> 0);
  });
  add(
    "proxy_register_shared_queue",
    "iii",
    "i",
    (np: number, ns: number, tokenPointer: number) => {
      const name = mem().readString(np, ns);
      if (name === undefined) return MEMORY;
      return mem().writeU32(tokenPointer, rt.queues.register(name))
        ? OK
        : MEMORY;
    },
  );
  add("proxy_resolve_shared_queue", "iiiii", "i", (
    vp: number,
    vs: number,
    np: number,
    ns: number,
    tokenPointer: number,
  ) => {
    const vmId = mem().readString(vp, vs);
    const name = mem().readString(np, ns);
    if (vmId === undefined || name === undefined) return MEMORY;
    const ownVm = vmId === "" || vmId === fromUtf8(rt.plugin.vmId);
    const token = ownVm ? rt.queues.resolve(name) : undefined;
    if (token === undefined) return NOT_FOUND;
    return mem().writeU32(tokenPointer, token) ? OK : MEMORY;
  });
  add(
    "proxy_dequeue_shared_queue",
    "iii",
    "i",
    (token: number, dpp: number, dsp: number) => {
      const item = rt.queues.dequeue(token >>> 0);
      if (item.result !== OK) return item.result;
      return mem().copyToPointerSize(item.data!, dpp, dsp) ? OK : MEMORY;
    },
  );
  add(
    "proxy_enqueue_shared_queue",
    "iii",
    "i",
    (token: number, dp: number, ds: number) => {
      const data = mem().read(dp, ds);
      if (data === undefined) return MEMORY;
      return rt.queues.enqueue(token >>> 0, data);
    },
  );

  // Header maps: none exist in a network filter.
  const mapCall = (
    name: string,
    params: string,
    reads: (args: number[]) => boolean,
  ) =>
    add(name, params, "i", (type: number, ...args: number[]) => {
      if (type >>> 0 > HEADER_MAP_TYPE_MAX) return BAD;
      return reads(args) ? BAD : MEMORY;
    });
  mapCall(
    "proxy_add_header_map_value",
    "iiiii",
    ([kp, ks, vp, vs]) => mem().contains(kp, ks) && mem().contains(vp, vs),
  );
  mapCall(
    "proxy_replace_header_map_value",
    "iiiii",
    ([kp, ks, vp, vs]) => mem().contains(kp, ks) && mem().contains(vp, vs),
  );
  mapCall(
    "proxy_get_header_map_value",
    "iiiii",
    ([kp, ks]) => mem().contains(kp, ks),
  );
  mapCall(
    "proxy_remove_header_map_value",
    "iii",
    ([kp, ks]) => mem().contains(kp, ks),
  );
  mapCall(
    "proxy_set_header_map_pairs",
    "iii",
    ([p, s]) => mem().contains(p, s),
  );
  mapCall("proxy_get_header_map_size", "ii", () => true);
  add(
    "proxy_get_header_map_pairs",
    "iii",
    "i",
    (type: number, pp: number, sp: number) => {
      if (type >>> 0 > HEADER_MAP_TYPE_MAX) return BAD;
      return mem().copyToPointerSize(EMPTY, pp, sp) ? OK : MEMORY;
    },
  );

  // Buffers.
  add(
    "proxy_get_buffer_status",
    "iii",
    "i",
    (type: number, lengthPointer: number, flags: number) => {
      if (type >>> 0 > BUFFER_TYPE_MAX) return BAD;
      const buffer = bufferOf(rt, rt.effective(), type);
      if (buffer === undefined) return NOT_FOUND;
      if (!mem().writeU32(lengthPointer, buffer.length)) return MEMORY;
      return mem().writeU32(flags, 0) ? OK : MEMORY;
    },
  );
  add("proxy_get_buffer_bytes", "iiiii", "i", (
    type: number,
    start: number,
    length: number,
    pp: number,
    sp: number,
  ) => {
    if (type >>> 0 > BUFFER_TYPE_MAX) return BAD;
    const buffer = bufferOf(rt, rt.effective(), type);
    if (buffer === undefined) return NOT_FOUND;
    start >>>= 0;
    length >>>= 0;
    if (start > buffer.length) length = 0;
    else if (start + length > buffer.length) length = buffer.length - start;
    const bytes = length === 0 ? EMPTY : buffer.subarray(start, start + length);
    return mem().copyToPointerSize(bytes, pp, sp) ? OK : MEMORY;
  });
  add("proxy_set_buffer_bytes", "iiiii", "i", (
    type: number,
    start: number,
    length: number,
    dp: number,
    ds: number,
  ) => {
    if (type >>> 0 > BUFFER_TYPE_MAX) return BAD;
    const context = rt.effective();
    if (bufferOf(rt, context, type) === undefined) return NOT_FOUND;
    const data = mem().read(dp, ds);
    if (data === undefined) return MEMORY;
    const downstream = type === BufferType.NetworkDownstreamData;
    const current = downstream ? context.downstreamData : context.upstreamData;
    if (
      (!downstream && type !== BufferType.NetworkUpstreamData) ||
      current === null
    ) return BAD;
    const next = spliceBuffer(current, start >>> 0, length >>> 0, data);
    if (next === undefined) return BAD;
    if (downstream) context.downstreamData = next;
    else context.upstreamData = next;
    return OK;
  });

  // Outgoing calls: no clusters to call in this host.
  add("proxy_http_call", "iiiiiiiiii", "i", (
    up: number,
    us: number,
    hp: number,
    hs: number,
    bp: number,
    bs: number,
    tp: number,
    ts: number,
    _timeout: number,
    tokenPointer: number,
  ) => {
    if (
      !mem().contains(up, us) || !mem().contains(hp, hs) ||
      !mem().contains(bp, bs) ||
      !mem().contains(tp, ts)
    ) {
      return MEMORY;
    }
    if (!mem().writeU32(tokenPointer, 0)) return MEMORY;
    return BAD; // Envoy: the named cluster does not exist.
  });
  add("proxy_grpc_call", "iiiiiiiiiiii", "i", (...args: number[]) => {
    for (let i = 0; i < 10; i += 2) {
      if (!mem().contains(args[i], args[i + 1])) return MEMORY;
    }
    // Envoy parses the GrpcService first, then fails to reach it: no clusters here.
    const service = mem().view(args[0], args[1])!;
    return isWellFormedProtobuf(service)
      ? WasmResult.InternalFailure
      : WasmResult.ParseFailure;
  });
  add("proxy_grpc_stream", "iiiiiiiii", "i", (...args: number[]) => {
    for (let i = 0; i < 8; i += 2) {
      if (!mem().contains(args[i], args[i + 1])) return MEMORY;
    }
    // Envoy parses the GrpcService first, then fails to reach it: no clusters here.
    const service = mem().view(args[0], args[1])!;
    return isWellFormedProtobuf(service)
      ? WasmResult.InternalFailure
      : WasmResult.ParseFailure;
  });
  add("proxy_grpc_cancel", "i", "i", () => NOT_FOUND);
  add("proxy_grpc_close", "i", "i", () => NOT_FOUND);
  add(
    "proxy_grpc_send",
    "iiii",
    "i",
    (token: number, mp: number, ms: number) => {
      if (!mem().contains(mp, ms)) return MEMORY;
      return (token & 1) === 1 ? BAD : NOT_FOUND;
    },
  );

  // Timers, time, metrics.
  add(
    "proxy_set_tick_period_milliseconds",
    "i",
    "i",
    (milliseconds: number) => {
      rt.setTickPeriod(milliseconds >>> 0);
      return OK;
    },
  );
  add("proxy_get_current_time_nanoseconds", "i", "i", (pointer: number) => {
    const now = BigInt(
      Math.round((performance.timeOrigin + performance.now()) * 1e6),
    );
    return mem().writeU64(pointer, now) ? OK : MEMORY;
  });
  add(
    "proxy_define_metric",
    "iiii",
    "i",
    (type: number, np: number, ns: number, idp: number) => {
      const name = mem().readString(np, ns);
      if (name === undefined) return MEMORY;
      const answer = rt.metrics.define(type >>> 0, name);
      if (answer.result !== OK) return answer.result;
      return mem().writeU32(idp, answer.id!) ? OK : MEMORY;
    },
  );
  const noteMetric = (
    answer: { result: number; name?: string; delta?: number },
  ) => {
    if (
      answer.result === OK && answer.name !== undefined &&
      answer.delta !== undefined
    ) {
      const deltas = rt.effective().metricDeltas;
      deltas.set(answer.name, (deltas.get(answer.name) ?? 0) + answer.delta);
    }
    return answer.result;
  };
  add(
    "proxy_increment_metric",
    "iI",
    "i",
    (id: number, offset: bigint) =>
      noteMetric(rt.metrics.increment(id >>> 0, offset)),
  );
  add(
    "proxy_record_metric",
    "iI",
    "i",
    (id: number, value: bigint) =>
      noteMetric(rt.metrics.record(id >>> 0, value)),
  );
  add("proxy_get_metric", "ii", "i", (id: number, pointer: number) => {
    const answer = rt.metrics.get(id >>> 0);
    if (answer.result !== OK) return answer.result;
    return mem().writeU64(pointer, answer.value!) ? OK : MEMORY;
  });

  // Contexts and foreign functions.
  add(
    "proxy_set_effective_context",
    "i",
    "i",
    (id: number) => rt.setEffective(id >>> 0) ? OK : BAD,
  );
  add("proxy_done", "", "i", () => rt.done(rt.effective()));
  add("proxy_call_foreign_function", "iiiiii", "i", (
    np: number,
    ns: number,
    ap: number,
    as: number,
    resultsPointer: number,
    resultsSizePointer: number,
  ) => {
    const name = mem().readString(np, ns);
    if (name === undefined) return MEMORY;
    const args = mem().view(ap, as);
    if (args === undefined) return MEMORY;
    const foreign = FOREIGN.get(name);
    if (foreign === undefined) return NOT_FOUND;
    const outcome = foreign(rt, args);
    let address = 0;
    const size = outcome.output?.length ?? 0;
    if (outcome.output !== undefined && resultsPointer !== 0 && size > 0) {
      const allocated = mem().allocate(outcome.output);
      if (allocated === undefined) return MEMORY;
      address = allocated;
    }
    if (resultsPointer !== 0 && !mem().writeU32(resultsPointer, address)) {
      return MEMORY;
    }
    if (resultsSizePointer !== 0 && !mem().writeU32(resultsSizePointer, size)) {
      return MEMORY;
    }
    return outcome.result;
  });

  // ABI-specific functions.
  const streamType = (type: number) => type >>> 0;
  if (rt.abiVersion === "0.1.0") {
    add("proxy_get_configuration", "ii", "i", (pp: number, sp: number) => {
      const context = rt.effective();
      const value = context.pluginConfigurationVisible
        ? rt.pluginConfiguration
        : rt.vmConfiguration;
      return mem().copyToPointerSize(value, pp, sp) ? OK : MEMORY;
    });
    add("proxy_continue_request", "", "i", () => OK);
    add("proxy_continue_response", "", "i", () => OK);
    add("proxy_clear_route_cache", "", "i", () => OK);
  } else {
    add("proxy_continue_stream", "i", "i", (type: number) => {
      switch (streamType(type)) {
        case StreamType.Request:
        case StreamType.Response:
          return OK;
        case StreamType.Downstream: {
          const context = rt.effective();
          if (context.facts !== undefined) context.continueRequested = true;
          return OK;
        }
        case StreamType.Upstream:
          return WasmResult.Unimplemented;
        default:
          return BAD;
      }
    });
    add("proxy_close_stream", "i", "i", (type: number) => {
      const context = rt.effective();
      switch (streamType(type)) {
        case StreamType.Request:
        case StreamType.Response:
          return OK;
        case StreamType.Downstream:
          if (context.facts !== undefined) {
            context.closeRequested.downstream = true;
          }
          return OK;
        case StreamType.Upstream:
          if (context.facts !== undefined) {
            context.closeRequested.upstream = true;
          }
          return OK;
        default:
          return BAD;
      }
    });
    if (rt.abiVersion === "0.2.1") {
      add(
        "proxy_get_log_level",
        "i",
        "i",
        (pointer: number) =>
          mem().writeU32(pointer, rt.logThreshold) ? OK : MEMORY,
      );
    }
  }

  add(
    "pthread_equal",
    "ii",
    "i",
    (left: number, right: number) => (left === right ? 1 : 0),
  );
  add("emscripten_notify_memory_growth", "i", "v", () => {});
  return imports;
}
