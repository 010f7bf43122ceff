// deno-fmt-ignore-file
// (deno fmt drops the decorator of a declared function.)
// The host function of proxy-wasm ABI 0.2.1 the filter uses; SDK 0.1.8 declares 0.2.0's only.

/** Writes the proxy's log level (trace 0, debug 1, info 2, warn 3, error 4, critical 5) at `level`. */
// @ts-ignore: decorator
@external("env", "proxy_get_log_level")
export declare function proxy_get_log_level(level: usize): u32;
