/**
 * Shared data and shared queues: `proxy_get_shared_data`,
 * `proxy_set_shared_data`, `proxy_register_shared_queue`,
 * `proxy_resolve_shared_queue`, `proxy_dequeue_shared_queue`,
 * `proxy_enqueue_shared_queue`.
 *
 * @module
 */
import { fromUtf8 } from "../memory.ts";
import type { HostRuntime } from "../runtime.ts";
import type { HostImport } from "../types.ts";
import { envCall, MEMORY, NOT_FOUND, OK, written } from "./common.ts";

/** The shared-data and shared-queue functions. */
export function sharedDataCalls(rt: HostRuntime): HostImport[] {
  const mem = () => rt.memory;
  return [
    envCall("proxy_get_shared_data", "iiiii", (
      keyPtr: number,
      keySize: number,
      valuePtrPtr: number,
      valueSizePtr: number,
      casPtr: number,
    ) => {
      const key = mem().readString(keyPtr, keySize);
      if (key === undefined) return MEMORY;
      const entry = rt.sharedData.get(key);
      if (entry.result !== OK) return entry.result;
      if (!mem().copyToPointerSize(entry.value!, valuePtrPtr, valueSizePtr)) {
        return MEMORY;
      }
      return written(mem().writeU32(casPtr, entry.cas!));
    }),
    envCall("proxy_set_shared_data", "iiiii", (
      keyPtr: number,
      keySize: number,
      valuePtr: number,
      valueSize: number,
      cas: number,
    ) => {
      const key = mem().readString(keyPtr, keySize);
      const value = mem().read(valuePtr, valueSize);
      if (key === undefined || value === undefined) return MEMORY;
      return rt.sharedData.set(key, value, cas >>> 0);
    }),
    envCall("proxy_register_shared_queue", "iii", (
      namePtr: number,
      nameSize: number,
      tokenPtr: number,
    ) => {
      const name = mem().readString(namePtr, nameSize);
      if (name === undefined) return MEMORY;
      return written(mem().writeU32(tokenPtr, rt.queues.register(name)));
    }),
    envCall("proxy_resolve_shared_queue", "iiiii", (
      vmIdPtr: number,
      vmIdSize: number,
      namePtr: number,
      nameSize: number,
      tokenPtr: number,
    ) => {
      const vmId = mem().readString(vmIdPtr, vmIdSize);
      const name = mem().readString(namePtr, nameSize);
      if (vmId === undefined || name === undefined) return MEMORY;
      const ownVm = vmId === "" || vmId === fromUtf8(rt.plugin.vmId);
      const token = ownVm ? rt.queues.resolve(name) : undefined;
      if (token === undefined) return NOT_FOUND;
      return written(mem().writeU32(tokenPtr, token));
    }),
    envCall("proxy_dequeue_shared_queue", "iii", (
      token: number,
      dataPtrPtr: number,
      dataSizePtr: number,
    ) => {
      const item = rt.queues.dequeue(token >>> 0);
      if (item.result !== OK) return item.result;
      return written(
        mem().copyToPointerSize(item.data!, dataPtrPtr, dataSizePtr),
      );
    }),
    envCall("proxy_enqueue_shared_queue", "iii", (
      token: number,
      dataPtr: number,
      dataSize: number,
    ) => {
      const data = mem().read(dataPtr, dataSize);
      if (data === undefined) return MEMORY;
      return rt.queues.enqueue(token >>> 0, data);
    }),
  ];
}
