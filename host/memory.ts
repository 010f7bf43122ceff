/**
 * Bounds-checked access to a module's linear memory, and allocation of
 * host-returned buffers through the module's own allocator. Every accessor
 * answers `false`/`undefined` for an out-of-bounds pointer, which the host
 * functions turn into `InvalidMemoryAccess`; nothing reads or writes outside.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A view of one instance's memory that follows `memory.grow`. */
export class LinearMemory {
  #memory: WebAssembly.Memory;
  #buffer: ArrayBufferLike;
  #bytes: Uint8Array;
  #view: DataView;
  #malloc: (size: number) => number;

  /**
   * @param memory the instance's exported memory
   * @param malloc the module's allocator (`malloc` or `proxy_on_memory_allocate`)
   */
  constructor(memory: WebAssembly.Memory, malloc: (size: number) => number) {
    this.#memory = memory;
    this.#buffer = memory.buffer;
    this.#bytes = new Uint8Array(this.#buffer);
    this.#view = new DataView(this.#buffer);
    this.#malloc = malloc;
  }

  #refresh(): void {
    if (this.#memory.buffer !== this.#buffer) {
      this.#buffer = this.#memory.buffer;
      this.#bytes = new Uint8Array(this.#buffer);
      this.#view = new DataView(this.#buffer);
    }
  }

  /** Current size of the memory in bytes. */
  get byteLength(): number {
    return this.#memory.buffer.byteLength;
  }

  #inBounds(pointer: number, size: number): boolean {
    if (pointer + size <= this.#bytes.length) return true;
    // Growing the memory detaches the old buffer (its views read as empty): look again.
    this.#refresh();
    return pointer + size <= this.#bytes.length;
  }

  /** A copy of `size` bytes at `pointer`, or undefined when out of bounds. */
  read(pointer: number, size: number): Uint8Array | undefined {
    pointer >>>= 0;
    size >>>= 0;
    if (!this.#inBounds(pointer, size)) return undefined;
    return this.#bytes.slice(pointer, pointer + size);
  }

  /**
   * A view (no copy) of `size` bytes at `pointer`, or undefined when out of
   * bounds. Valid until the module runs again: use it at once.
   */
  view(pointer: number, size: number): Uint8Array | undefined {
    pointer >>>= 0;
    size >>>= 0;
    if (!this.#inBounds(pointer, size)) return undefined;
    return this.#bytes.subarray(pointer, pointer + size);
  }

  /** Whether `size` bytes at `pointer` are inside the memory. */
  contains(pointer: number, size: number): boolean {
    return this.#inBounds(pointer >>> 0, size >>> 0);
  }

  /** The UTF-8 text at `pointer`, or undefined when out of bounds. */
  readString(pointer: number, size: number): string | undefined {
    pointer >>>= 0;
    size >>>= 0;
    if (!this.#inBounds(pointer, size)) return undefined;
    return shortAscii(this.#bytes, pointer, pointer + size) ??
      fromUtf8(this.#bytes.subarray(pointer, pointer + size));
  }

  /** Reads a little-endian u32, or undefined when out of bounds. */
  readU32(pointer: number): number | undefined {
    pointer >>>= 0;
    if (!this.#inBounds(pointer, 4)) return undefined;
    return this.#view.getUint32(pointer, true);
  }

  /** Writes `bytes` at `pointer`; false when out of bounds. */
  write(pointer: number, bytes: Uint8Array): boolean {
    pointer >>>= 0;
    if (!this.#inBounds(pointer, bytes.length)) return false;
    if (bytes.length <= 32) {
      // A loop beats the native copy for the short values properties and ids are.
      const target = this.#bytes;
      for (let i = 0; i < bytes.length; i++) target[pointer + i] = bytes[i];
    } else {
      this.#bytes.set(bytes, pointer);
    }
    return true;
  }

  /** Writes a little-endian u32 (a wasm32 word); false when out of bounds. */
  writeU32(pointer: number, value: number): boolean {
    pointer >>>= 0;
    if (!this.#inBounds(pointer, 4)) return false;
    this.#view.setUint32(pointer, value >>> 0, true);
    return true;
  }

  /** Writes a little-endian u64; false when out of bounds. */
  writeU64(pointer: number, value: bigint): boolean {
    pointer >>>= 0;
    if (!this.#inBounds(pointer, 8)) return false;
    this.#view.setBigUint64(pointer, BigInt.asUintN(64, value), true);
    return true;
  }

  /**
   * Allocates `size` bytes in the module and copies `bytes` there. Returns the
   * pointer, or undefined when the allocator returned 0 or an out-of-bounds
   * pointer.
   */
  allocate(bytes: Uint8Array): number | undefined {
    const pointer = this.#malloc(bytes.length) >>> 0;
    if (pointer === 0 || !this.write(pointer, bytes)) return undefined;
    return pointer;
  }

  /**
   * As {@link copyToPointerSize} for the UTF-8 bytes of `text`; ASCII text is
   * written straight into the module's buffer, without an array between.
   */
  copyStringToPointerSize(
    text: string,
    pointerPointer: number,
    sizePointer: number,
  ): boolean {
    const size = text.length;
    for (let i = 0; i < size; i++) {
      if (text.charCodeAt(i) > 0x7f) {
        return this.copyToPointerSize(utf8(text), pointerPointer, sizePointer);
      }
    }
    let pointer = 0;
    if (size > 0) {
      pointer = this.#malloc(size) >>> 0;
      if (pointer === 0 || !this.#inBounds(pointer, size)) return false;
      const target = this.#bytes;
      for (let i = 0; i < size; i++) target[pointer + i] = text.charCodeAt(i);
    }
    return this.writeU32(pointerPointer, pointer) &&
      this.writeU32(sizePointer, size);
  }

  /**
   * Copies `bytes` into a buffer allocated in the module and writes its pointer
   * and size to `pointerPointer` and `sizePointer` (little-endian words), as
   * proxy-wasm-cpp-host's `copyToPointerSize` does: an empty value writes
   * pointer 0 and size 0 without allocating. False on any bad pointer.
   */
  copyToPointerSize(
    bytes: Uint8Array,
    pointerPointer: number,
    sizePointer: number,
  ): boolean {
    let pointer = 0;
    if (bytes.length > 0) {
      const allocated = this.allocate(bytes);
      if (allocated === undefined) return false;
      pointer = allocated;
    }
    return this.writeU32(pointerPointer, pointer) &&
      this.writeU32(sizePointer, bytes.length);
  }
}

/** Short ASCII text is converted in JavaScript: cheaper than a call to the native codec. */
const SHORT = 48;

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  if (text.length <= SHORT) {
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code > 0x7f) return encoder.encode(text);
      bytes[i] = code;
    }
    return bytes;
  }
  return encoder.encode(text);
}

/** Longest text {@link shortAscii} answers. */
const ASCII_MAX = 64;
const SLOT_BITS = 8;
const ASCII_SLOTS = 1 << SLOT_BITS;
/** Recently read short ASCII texts, one per slot: their bytes and their string. */
const asciiBytes: (Uint8Array | undefined)[] = new Array(ASCII_SLOTS);
const asciiTexts: string[] = new Array(ASCII_SLOTS).fill("");

/**
 * The text of `bytes[start, end)` when it is short ASCII, else undefined.
 * Property paths, function names and filter-state keys repeat, mostly from
 * the same place in the module's memory: the cache slot is chosen by that
 * place, and when the bytes there are those read before, the string read
 * before comes back without decoding or allocating.
 */
export function shortAscii(
  bytes: Uint8Array,
  start: number,
  end: number,
): string | undefined {
  const size = end - start;
  if (size > ASCII_MAX) return undefined;
  const place = bytes.byteOffset + start;
  const slot = Math.imul(place ^ (size << 24), 0x9e3779b1) >>> (32 - SLOT_BITS);
  const known = asciiBytes[slot];
  if (known !== undefined && known.length === size) {
    let i = 0;
    while (i < size && known[i] === bytes[start + i]) i++;
    if (i === size) return asciiTexts[slot];
  }
  for (let i = start; i < end; i++) if (bytes[i] > 0x7f) return undefined;
  let text = "";
  if (size <= 16) {
    for (let i = start; i < end; i++) text += String.fromCharCode(bytes[i]);
  } else {
    // Longer, the native codec wins (ASCII is UTF-8 as it is).
    text = decoder.decode(bytes.subarray(start, end));
  }
  asciiBytes[slot] = bytes.slice(start, end);
  asciiTexts[slot] = text;
  return text;
}

/** Text of UTF-8 `bytes` (invalid sequences become U+FFFD). */
export function fromUtf8(bytes: Uint8Array): string {
  return shortAscii(bytes, 0, bytes.length) ?? decoder.decode(bytes);
}
