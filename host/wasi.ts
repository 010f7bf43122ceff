/**
 * The WASI functions Envoy offers, under both `wasi_unstable` and
 * `wasi_snapshot_preview1`: stdout/stderr become log lines (info/error),
 * `proc_exit` records an error and traps, clocks and random work, and the
 * file system is absent.
 *
 * @module
 */
import type { LinearMemory } from "./memory.ts";
import {
  hostImport,
  type HostRuntime,
  wallClockNanoseconds,
} from "./runtime.ts";
import type { HostFunction, HostImport } from "./types.ts";

const ESUCCESS = 0;
const EBADF = 8;
const EFAULT = 21;
const EINVAL = 28;
const ENOENT = 44;
const ENOSYS = 52;
const ENOTSUP = 58;
const RANDOM_MAX = 64 * 1024;
const INFO = 2;
const ERROR = 4;

/** The bytes of `count` iovecs (pointer, length) at `iovs`, or undefined on a bad pointer. */
function gather(
  mem: LinearMemory,
  iovs: number,
  count: number,
): Uint8Array | undefined {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    const base = mem.readU32(iovs + i * 8);
    const length = mem.readU32(iovs + i * 8 + 4);
    if (base === undefined || length === undefined) return undefined;
    const part = mem.read(base, length);
    if (part === undefined) return undefined;
    parts.push(part);
    total += length;
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}

/** The WASI imports, once per WASI module name. */
export function wasiImports(rt: HostRuntime): HostImport[] {
  const mem = () => rt.memory;
  /** A call Envoy does not support: an error line, and success. */
  const unsupported = (name: string) => () => {
    rt.log(rt.effective(), ERROR, `wasi ${name} is not supported`);
    return ESUCCESS;
  };
  /** `environ_sizes_get` and `args_sizes_get`: none. */
  const noneSizes = (count: number, size: number) =>
    mem().writeU32(count, 0) && mem().writeU32(size, 0) ? ESUCCESS : EFAULT;
  const functions: [
    string,
    string,
    "i" | "v",
    HostFunction,
  ][] = [
    [
      "fd_write",
      "iiii",
      "i",
      (fd: number, iovs: number, count: number, written: number) => {
        const level = fd === 1 ? INFO : fd === 2 ? ERROR : -1;
        if (level < 0) return EBADF;
        const bytes = gather(mem(), iovs, count >>> 0);
        if (bytes === undefined) return EFAULT;
        if (bytes.length > 0) {
          let text = new TextDecoder().decode(bytes);
          if (text.endsWith("\n")) text = text.slice(0, -1);
          rt.log(rt.effective(), level, text);
        }
        return mem().writeU32(written, bytes.length) ? ESUCCESS : EFAULT;
      },
    ],
    ["fd_read", "iiii", "i", () => ENOSYS],
    ["fd_seek", "iIii", "i", unsupported("fd_seek")],
    ["fd_close", "i", "i", unsupported("fd_close")],
    ["fd_fdstat_get", "ii", "i", (fd: number, pointer: number) => {
      if (fd !== 1 && fd !== 2) return EBADF;
      const stat = new Uint8Array(24);
      stat[8] = 64; // fs_rights_base = FD_WRITE
      return mem().write(pointer, stat) ? ESUCCESS : EFAULT;
    }],
    ["environ_get", "ii", "i", () => ESUCCESS],
    ["environ_sizes_get", "ii", "i", noneSizes],
    ["args_get", "ii", "i", () => ESUCCESS],
    ["args_sizes_get", "ii", "i", noneSizes],
    [
      "clock_time_get",
      "iIi",
      "i",
      (clock: number, _precision: bigint, pointer: number) => {
        let nanoseconds: bigint;
        if (clock === 0) nanoseconds = wallClockNanoseconds();
        else if (clock === 1) {
          nanoseconds = BigInt(Math.round(performance.now() * 1e6));
        } else return ENOTSUP;
        return mem().writeU64(pointer, nanoseconds) ? ESUCCESS : EFAULT;
      },
    ],
    ["random_get", "ii", "i", (pointer: number, length: number) => {
      length >>>= 0;
      if (length > RANDOM_MAX) return EINVAL;
      if (length === 0) return ESUCCESS;
      const bytes = crypto.getRandomValues(new Uint8Array(length));
      return mem().write(pointer, bytes) ? ESUCCESS : EFAULT;
    }],
    ["proc_exit", "i", "v", (code: number) => rt.exit(code >>> 0)],
    ["path_open", "iiiiiIIii", "i", () => ENOENT],
    ["fd_prestat_get", "ii", "i", () => EBADF],
    ["fd_prestat_dir_name", "iii", "i", () => ENOSYS],
  ];
  const imports: HostImport[] = [];
  for (const module of ["wasi_unstable", "wasi_snapshot_preview1"]) {
    for (const [name, params, result, fn] of functions) {
      imports.push(hostImport(module, name, params, result, fn));
    }
  }
  return imports;
}

/** WASI calls allowed while the VM starts (`_initialize`, `main`, `_start`), as in Envoy. */
export const START_ALLOWED = new Set(
  [
    "env.proxy_log",
    ...[
      "fd_write",
      "args_sizes_get",
      "args_get",
      "environ_sizes_get",
      "environ_get",
    ]
      .concat([
        "fd_prestat_get",
        "fd_prestat_dir_name",
        "clock_time_get",
        "random_get",
      ])
      .flatMap((
        name,
      ) => [`wasi_unstable.${name}`, `wasi_snapshot_preview1.${name}`]),
  ],
);
