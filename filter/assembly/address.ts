// The routing key: the parity of a source address.
// IPv4 (bare or "ip:port"), IPv4-mapped IPv6 ("[::ffff:a.b.c.d]:port") use the last octet;
// plain IPv6 uses its last byte. Anything else is unparseable.

/** 0 for even, 1 for odd, -1 when `address` is not an IP address. Never traps. */
export function sourceParity(address: string): i32 {
  const host = hostOf(address);
  if (host == null) return -1;
  const last = host!.includes(":")
    ? lastByteOfIPv6(host!)
    : lastByteOfIPv4(host!);
  return last < 0 ? -1 : last & 1;
}

/** The port of "ip:port" or "[ipv6]:port", or 0 when there is none. */
export function portOf(address: string): i32 {
  const colon = address.lastIndexOf(":");
  if (colon < 0) return 0;
  const bracketed = address.startsWith("[");
  if (!bracketed && address.indexOf(":") != colon) return 0;
  if (bracketed && address.charCodeAt(colon - 1) != 0x5d) return 0;
  return parsePort(address.substring(colon + 1));
}

function hostOf(address: string): string | null {
  if (address.startsWith("[")) {
    const close = address.indexOf("]");
    if (close < 0) return null;
    const rest = address.substring(close + 1);
    if (
      rest.length > 0 &&
      !(rest.startsWith(":") && parsePort(rest.substring(1)) >= 0)
    ) return null;
    return address.substring(1, close);
  }
  const colon = address.indexOf(":");
  if (colon >= 0 && address.lastIndexOf(":") == colon) {
    return parsePort(address.substring(colon + 1)) >= 0
      ? address.substring(0, colon)
      : null;
  }
  return address;
}

/** A decimal port 0..65535 of 1 to 5 digits, or -1. */
function parsePort(text: string): i32 {
  const value = parseDecimal(text, 5);
  return value <= 65535 ? value : -1;
}

/** Digits only, 1 to `maxDigits` of them, or -1. */
function parseDecimal(text: string, maxDigits: i32): i32 {
  const length = text.length;
  if (length == 0 || length > maxDigits) return -1;
  let value = 0;
  for (let i = 0; i < length; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

function lastByteOfIPv4(text: string): i32 {
  const parts = text.split(".");
  if (parts.length != 4) return -1;
  let last = -1;
  for (let i = 0; i < 4; i++) {
    last = parseDecimal(parts[i], 3);
    if (last < 0 || last > 255) return -1;
  }
  return last;
}

function isHexGroup(group: string): bool {
  const length = group.length;
  if (length == 0 || length > 4) return false;
  for (let i = 0; i < length; i++) {
    const c = group.charCodeAt(i);
    const hex = (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) ||
      (c >= 0x41 && c <= 0x46);
    if (!hex) return false;
  }
  return true;
}

function hexValue(c: i32): i32 {
  if (c <= 0x39) return c - 0x30;
  return (c | 0x20) - 0x61 + 10;
}

function lastByteOfIPv6(text: string): i32 {
  // An embedded IPv4 tail ("::ffff:10.0.0.4") stands for the last two groups.
  let head = text;
  let groupsWanted = 8;
  let tailByte = -1;
  const lastColon = text.lastIndexOf(":");
  const tail = text.substring(lastColon + 1);
  if (tail.includes(".")) {
    tailByte = lastByteOfIPv4(tail);
    if (tailByte < 0) return -1;
    groupsWanted = 6;
    head = text.charCodeAt(lastColon - 1) == 0x3a
      ? text.substring(0, lastColon + 1)
      : text.substring(0, lastColon);
  }
  const halves = head.split("::");
  if (halves.length > 2) return -1;
  const left = halves[0].length > 0
    ? halves[0].split(":")
    : new Array<string>(0);
  const right = halves.length == 2 && halves[1].length > 0
    ? halves[1].split(":")
    : new Array<string>(0);
  const count = left.length + right.length;
  if (halves.length == 2 ? count >= groupsWanted : count != groupsWanted) {
    return -1;
  }
  for (let i = 0; i < left.length; i++) if (!isHexGroup(left[i])) return -1;
  for (let i = 0; i < right.length; i++) if (!isHexGroup(right[i])) return -1;
  if (tailByte >= 0) return tailByte;
  // The last group is the last of `right` after "::", or zero when "::" ends the address.
  let lastGroup = "";
  if (right.length > 0) lastGroup = right[right.length - 1];
  else if (halves.length == 1) lastGroup = left[left.length - 1];
  if (lastGroup.length == 0) return 0;
  const length = lastGroup.length;
  const low = hexValue(lastGroup.charCodeAt(length - 1));
  const high = length > 1 ? hexValue(lastGroup.charCodeAt(length - 2)) : 0;
  return (high << 4) | low;
}
