/**
 * Logging, status, timers and time: `proxy_log`, `proxy_get_log_level`
 * (ABI 0.2.1), `proxy_get_status`, `proxy_set_tick_period_milliseconds`,
 * `proxy_get_current_time_nanoseconds`.
 *
 * @module
 */
import { type HostRuntime, wallClockNanoseconds } from "../runtime.ts";
import type { HostImport } from "../types.ts";
import { BAD, EMPTY, envCall, MEMORY, OK, written } from "./common.ts";

/** The logging and time functions of `rt`'s ABI version. */
export function loggingAndTimeCalls(rt: HostRuntime): HostImport[] {
  const mem = () => rt.memory;
  const calls = [
    envCall("proxy_log", "iii", (level: number, ptr: number, size: number) => {
      if (level >>> 0 > 5) return BAD;
      const message = mem().readString(ptr, size);
      if (message === undefined) return MEMORY;
      rt.log(rt.effective(), level, message);
      return OK;
    }),
    envCall(
      "proxy_get_status",
      "iii",
      (code: number, ptr: number, size: number) => {
        if (!mem().writeU32(code, 0)) return MEMORY;
        return written(mem().copyToPointerSize(EMPTY, ptr, size));
      },
    ),
    envCall("proxy_set_tick_period_milliseconds", "i", (period: number) => {
      rt.setTickPeriod(period >>> 0);
      return OK;
    }),
    envCall(
      "proxy_get_current_time_nanoseconds",
      "i",
      (ptr: number) => written(mem().writeU64(ptr, wallClockNanoseconds())),
    ),
  ];
  if (rt.abiVersion === "0.2.1") {
    calls.push(
      envCall(
        "proxy_get_log_level",
        "i",
        (ptr: number) => written(mem().writeU32(ptr, rt.logThreshold)),
      ),
    );
  }
  return calls;
}
