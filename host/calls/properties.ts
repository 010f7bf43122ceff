/**
 * Properties: `proxy_get_property` (answered by `../properties.ts` as Envoy
 * does) and `proxy_set_property` (kept on the connection).
 *
 * @module
 */
import { propertyValue } from "../properties.ts";
import type { HostRuntime } from "../runtime.ts";
import type { HostImport } from "../types.ts";
import { envCall, MEMORY, NOT_FOUND, OK, written } from "./common.ts";

/** `proxy_get_property` and `proxy_set_property`. */
export function propertyCalls(rt: HostRuntime): HostImport[] {
  const mem = () => rt.memory;
  return [
    envCall("proxy_get_property", "iiii", (
      pathPtr: number,
      pathSize: number,
      valuePtrPtr: number,
      valueSizePtr: number,
    ) => {
      const path = mem().readString(pathPtr, pathSize);
      if (path === undefined) return MEMORY;
      const value = propertyValue(path, rt.plugin, rt.effective().facts);
      if (typeof value === "number") return value;
      return written(
        typeof value === "string"
          ? mem().copyStringToPointerSize(value, valuePtrPtr, valueSizePtr)
          : mem().copyToPointerSize(value, valuePtrPtr, valueSizePtr),
      );
    }),
    envCall("proxy_set_property", "iiii", (
      keyPtr: number,
      keySize: number,
      valuePtr: number,
      valueSize: number,
    ) => {
      const key = mem().readString(keyPtr, keySize);
      const value = mem().read(valuePtr, valueSize);
      if (key === undefined || value === undefined) return MEMORY;
      const facts = rt.effective().facts;
      if (facts === undefined) return NOT_FOUND;
      facts.custom.set(key, value);
      return OK;
    }),
  ];
}
