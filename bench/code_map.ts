/**
 * Where an address of a running process lies: which mapped file, and which
 * ELF section of it. Callgrind leaves code outside a file's `.text` (such as
 * tcmalloc's `google_malloc` section in Envoy's binary) unattributed, as it
 * does V8's generated code; this tells the two apart.
 *
 * @module
 */

/** One file-backed mapping of /proc/<pid>/maps. */
interface Mapping {
  start: bigint;
  end: bigint;
  path: string;
  /** Where the file's first byte is mapped (its load base). */
  base: bigint;
}

/** One ELF section: name, address in the file's own terms, size. */
interface Section {
  name: string;
  address: bigint;
  size: bigint;
}

/** A file-backed mapping and section of an address, if any. */
export interface Place {
  path: string;
  section?: string;
}

/** Reads the file-backed mappings of `pid` (Linux). */
function mappings(pid: number): Mapping[] {
  const rows = Deno.readTextFileSync(`/proc/${pid}/maps`).split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 6 && fields[5].startsWith("/"));
  const bases = new Map<string, bigint>();
  for (const [range, , offset, , , path] of rows) {
    if (BigInt(`0x${offset}`) === 0n && !bases.has(path)) {
      bases.set(path, BigInt(`0x${range.split("-")[0]}`));
    }
  }
  return rows.map(([range, , , , , path]) => {
    const [start, end] = range.split("-").map((hex) => BigInt(`0x${hex}`));
    return { start, end, path, base: bases.get(path) ?? 0n };
  });
}

/** The section headers of a 64-bit little-endian ELF file; none for anything else. */
function elfSections(path: string): Section[] {
  let file: Deno.FsFile | undefined;
  try {
    file = Deno.openSync(path);
    const read = (offset: bigint, length: number) => {
      const bytes = new Uint8Array(length);
      file!.seekSync(Number(offset), Deno.SeekMode.Start);
      let done = 0;
      while (done < length) {
        const n = file!.readSync(bytes.subarray(done));
        if (n === null) break;
        done += n;
      }
      return new DataView(bytes.buffer);
    };
    const header = read(0n, 64);
    // "\x7fELF", 64-bit, little-endian.
    if (
      header.getUint32(0) !== 0x7f454c46 || header.getUint8(4) !== 2 ||
      header.getUint8(5) !== 1
    ) return [];
    const offset = header.getBigUint64(0x28, true);
    const size = header.getUint16(0x3a, true);
    const count = header.getUint16(0x3c, true);
    const names = header.getUint16(0x3e, true);
    const table = read(offset, size * count);
    const field = (i: number) => ({
      name: table.getUint32(i * size, true),
      address: table.getBigUint64(i * size + 0x10, true),
      offset: table.getBigUint64(i * size + 0x18, true),
      size: table.getBigUint64(i * size + 0x20, true),
    });
    const strings = field(names);
    const text = new Uint8Array(
      read(strings.offset, Number(strings.size)).buffer,
    );
    const nameAt = (at: number) =>
      new TextDecoder().decode(text.subarray(at, text.indexOf(0, at)));
    return Array.from({ length: count }, (_, i) => field(i)).map((s) => ({
      name: nameAt(s.name),
      address: s.address,
      size: s.size,
    }));
  } catch {
    return [];
  } finally {
    file?.close();
  }
}

/**
 * A function that places addresses of `pid` as it is mapped now: the file
 * and its section, or undefined for memory no file backs (generated code).
 */
export function codeMap(pid: number): (address: bigint) => Place | undefined {
  const maps = mappings(pid);
  const sections = new Map<string, Section[]>();
  return (address) => {
    const mapping = maps.find((m) => address >= m.start && address < m.end);
    if (mapping === undefined) return undefined;
    if (!sections.has(mapping.path)) {
      sections.set(mapping.path, elfSections(mapping.path));
    }
    const inFile = address - mapping.base;
    const section = sections.get(mapping.path)!.find((s) =>
      s.address !== 0n && inFile >= s.address && inFile < s.address + s.size
    );
    return { path: mapping.path, section: section?.name };
  };
}
