// The routing key: the parity of a source address, read from its bytes where the host
// put them (no string, no allocation).
// IPv4 (bare or "ip:port"), IPv4-mapped IPv6 ("[::ffff:a.b.c.d]:port") use the last octet;
// plain IPv6 uses its last byte. Anything else is unparseable.

const COLON: u8 = 0x3a;
const DOT: u8 = 0x2e;
const OPEN: u8 = 0x5b; // [
const CLOSE: u8 = 0x5d; // ]

/** 0 for even, 1 for odd, -1 when the `length` bytes at `text` are not an IP address. Never traps. */
export function sourceParity(text: usize, length: i32): i32 {
  const octet = plainIPv4LastOctet(text, length);
  if (octet >= 0) return octet & 1;
  let start = 0;
  let end = length;
  if (length > 0 && load<u8>(text) == OPEN) {
    const close = indexOf(text, 0, length, CLOSE);
    if (close < 0) return -1;
    if (close + 1 < length) {
      if (load<u8>(text + close + 1) != COLON) return -1;
      if (parsePort(text, close + 2, length) < 0) return -1;
    }
    start = 1;
    end = close;
  } else {
    const colon = indexOf(text, 0, length, COLON);
    if (colon >= 0 && lastIndexOf(text, 0, length, COLON) == colon) {
      if (parsePort(text, colon + 1, length) < 0) return -1;
      end = colon;
    }
  }
  let last = -1;
  if (indexOf(text, start, end, COLON) >= 0) {
    last = lastByteOfIPv6(text, start, end);
  } else last = lastByteOfIPv4(text, start, end);
  return last < 0 ? -1 : last & 1;
}

/**
 * The last octet of "a.b.c.d" or "a.b.c.d:port", the form nearly every source takes,
 * read in one pass; -1 for anything else, which sourceParity then reads in full (so
 * -1 here does not mean unparseable). Where it gives an octet, the full reading gives
 * the same one.
 */
function plainIPv4LastOctet(text: usize, length: i32): i32 {
  let dots = 0;
  let digits = 0;
  let value = 0;
  let i = 0;
  for (; i < length; i++) {
    const c = <i32> load<u8>(text + i);
    const digit = c - 0x30;
    if (<u32> digit <= 9) {
      if (++digits > 3) return -1;
      value = value * 10 + digit;
      continue;
    }
    if (digits == 0 || value > 255) return -1;
    if (c == DOT && dots < 3) {
      dots++;
      digits = 0;
      value = 0;
      continue;
    }
    if (c == COLON && dots == 3) break;
    return -1;
  }
  if (dots != 3 || digits == 0 || value > 255) return -1;
  if (i < length && parsePort(text, i + 1, length) < 0) return -1;
  return value;
}

/** The port of "ip:port" or "[ipv6]:port" (the `length` bytes at `text`), 0 when there is none, -1 when it is not a port. */
export function portOf(text: usize, length: i32): i32 {
  const colon = lastIndexOf(text, 0, length, COLON);
  if (colon < 0) return 0;
  const bracketed = load<u8>(text) == OPEN;
  if (!bracketed && indexOf(text, 0, length, COLON) != colon) return 0;
  if (bracketed && load<u8>(text + colon - 1) != CLOSE) return 0;
  return parsePort(text, colon + 1, length);
}

function indexOf(text: usize, start: i32, end: i32, c: u8): i32 {
  for (let i = start; i < end; i++) if (load<u8>(text + i) == c) return i;
  return -1;
}

function lastIndexOf(text: usize, start: i32, end: i32, c: u8): i32 {
  for (let i = end - 1; i >= start; i--) if (load<u8>(text + i) == c) return i;
  return -1;
}

/** A decimal port 0..65535 of 1 to 5 digits in [start, end), or -1. */
function parsePort(text: usize, start: i32, end: i32): i32 {
  const value = parseDecimal(text, start, end, 5);
  return value <= 65535 ? value : -1;
}

/** Digits only, 1 to `maxDigits` of them, or -1. */
function parseDecimal(text: usize, start: i32, end: i32, maxDigits: i32): i32 {
  const length = end - start;
  if (length <= 0 || length > maxDigits) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = <i32> load<u8>(text + i) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** The last of four dot-separated decimals 0..255 of 1 to 3 digits, or -1. */
function lastByteOfIPv4(text: usize, start: i32, end: i32): i32 {
  let dots = 0;
  let partStart = start;
  for (let i = start; i <= end; i++) {
    if (i < end && load<u8>(text + i) != DOT) continue;
    const value = parseDecimal(text, partStart, i, 3);
    if (value < 0 || value > 255) return -1;
    if (i == end) return dots == 3 ? value : -1;
    dots++;
    partStart = i + 1;
  }
  return -1;
}

function isHex(c: i32): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) ||
    (c >= 0x41 && c <= 0x46);
}

function hexValue(c: i32): i32 {
  if (c <= 0x39) return c - 0x30;
  return (c | 0x20) - 0x61 + 10;
}

/** How many colon-separated groups of 1 to 4 hex digits [start, end) holds (0 when empty), or -1. */
function hexGroups(text: usize, start: i32, end: i32): i32 {
  if (start >= end) return 0;
  let groups = 0;
  let groupStart = start;
  for (let i = start; i <= end; i++) {
    if (i < end && load<u8>(text + i) != COLON) {
      if (!isHex(load<u8>(text + i))) return -1;
      continue;
    }
    const length = i - groupStart;
    if (length == 0 || length > 4) return -1;
    groups++;
    groupStart = i + 1;
  }
  return groups;
}

/** Where "::" starts in [start, end), or -1. */
function indexOfDoubleColon(text: usize, start: i32, end: i32): i32 {
  for (let i = start; i + 1 < end; i++) {
    if (load<u8>(text + i) == COLON && load<u8>(text + i + 1) == COLON) {
      return i;
    }
  }
  return -1;
}

function lastByteOfIPv6(text: usize, start: i32, end: i32): i32 {
  // An embedded IPv4 tail ("::ffff:10.0.0.4") stands for the last two groups.
  let headEnd = end;
  let groupsWanted = 8;
  let tailByte = -1;
  const lastColon = lastIndexOf(text, start, end, COLON);
  if (indexOf(text, lastColon + 1, end, DOT) >= 0) {
    tailByte = lastByteOfIPv4(text, lastColon + 1, end);
    if (tailByte < 0) return -1;
    groupsWanted = 6;
    const keepsDoubleColon = lastColon > start &&
      load<u8>(text + lastColon - 1) == COLON;
    headEnd = keepsDoubleColon ? lastColon + 1 : lastColon;
  }
  // At most one "::"; it stands for at least one zero group.
  const double = indexOfDoubleColon(text, start, headEnd);
  let count = 0;
  if (double < 0) {
    count = hexGroups(text, start, headEnd);
    if (count != groupsWanted) return -1;
  } else {
    if (indexOfDoubleColon(text, double + 2, headEnd) >= 0) return -1;
    const left = hexGroups(text, start, double);
    const right = hexGroups(text, double + 2, headEnd);
    if (left < 0 || right < 0 || left + right >= groupsWanted) return -1;
  }
  if (tailByte >= 0) return tailByte;
  // The last group follows the last colon; none there means "::" ends the address: zero.
  const length = end - lastColon - 1;
  if (length == 0) return 0;
  const low = hexValue(load<u8>(text + end - 1));
  let high = 0;
  if (length > 1) high = hexValue(load<u8>(text + end - 2));
  return (high << 4) | low;
}
