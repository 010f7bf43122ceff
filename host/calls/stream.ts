/**
 * Contexts and stream control: `proxy_set_effective_context`, `proxy_done`,
 * ABI 0.2.x's `proxy_continue_stream` and `proxy_close_stream`, and ABI
 * 0.1.0's `proxy_continue_request`, `proxy_continue_response`,
 * `proxy_clear_route_cache` (nothing to do in a network filter).
 *
 * @module
 */
import { StreamType, WasmResult } from "../abi.ts";
import type { HostRuntime } from "../runtime.ts";
import type { HostImport } from "../types.ts";
import { BAD, envCall, OK } from "./common.ts";

/** The context and stream functions of `rt`'s ABI version. */
export function streamCalls(rt: HostRuntime): HostImport[] {
  const calls = [
    envCall(
      "proxy_set_effective_context",
      "i",
      (id: number) => rt.setEffective(id >>> 0) ? OK : BAD,
    ),
    envCall("proxy_done", "", () => rt.done(rt.effective())),
  ];
  if (rt.abiVersion === "0.1.0") {
    for (
      const name of [
        "proxy_continue_request",
        "proxy_continue_response",
        "proxy_clear_route_cache",
      ]
    ) calls.push(envCall(name, "", () => OK));
    return calls;
  }
  calls.push(
    envCall("proxy_continue_stream", "i", (type: number) => {
      switch (type >>> 0) {
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
    }),
    envCall("proxy_close_stream", "i", (type: number) => {
      const context = rt.effective();
      const connection = context.facts !== undefined;
      switch (type >>> 0) {
        case StreamType.Request:
        case StreamType.Response:
          return OK;
        case StreamType.Downstream:
          if (connection) context.closeRequested.downstream = true;
          return OK;
        case StreamType.Upstream:
          if (connection) context.closeRequested.upstream = true;
          return OK;
        default:
          return BAD;
      }
    }),
  );
  return calls;
}
