// Wasmerang's filter library: addresses as the proxy gives them ("10.0.0.2:5555",
// "[2001:db8::1]:80", or a bare IP), read as strings. Never traps on input.

/** The host part: "10.0.0.2" of "10.0.0.2:5555", "2001:db8::1" of "[2001:db8::1]:80". */
export function addressHost(address: string): string {
  if (address.startsWith("[")) {
    const close = address.indexOf("]");
    if (close < 0) return address;
    return address.substring(1, close);
  }
  const colon = address.indexOf(":");
  if (colon < 0) return address;
  // More than one colon and no brackets: a bare IPv6 address.
  if (address.indexOf(":", colon + 1) >= 0) return address;
  return address.substring(0, colon);
}

/** The port (0..65535) of "10.0.0.2:5555" or "[::1]:80"; -1 when there is none. */
export function addressPort(address: string): i32 {
  let colon = -1;
  if (address.startsWith("[")) {
    const close = address.indexOf("]");
    if (close < 0 || close + 1 >= address.length) return -1;
    if (address.charCodeAt(close + 1) != 0x3a) return -1;
    colon = close + 1;
  } else {
    colon = address.indexOf(":");
    if (colon < 0 || address.indexOf(":", colon + 1) >= 0) return -1;
  }
  return decimal(address, colon + 1, address.length, 65535);
}

/**
 * Octet `index` (0..3) of an IPv4 host ("10.0.0.2", also IPv4-mapped "::ffff:10.0.0.2"
 * and a whole address with a port); -1 when the host is not IPv4.
 */
export function ipv4Octet(address: string, index: i32): i32 {
  let host = addressHost(address);
  if (host.startsWith("::ffff:")) host = host.substring(7);
  let start = 0;
  let found = -1;
  for (let i = 0; i < 4; i++) {
    let end = host.indexOf(".", start);
    if (i == 3) {
      if (end >= 0) return -1;
      end = host.length;
    } else if (end < 0) {
      return -1;
    }
    const octet = decimal(host, start, end, 255);
    if (octet < 0) return -1;
    if (i == index) found = octet;
    start = end + 1;
  }
  return found;
}

/** The decimal number in text[start, end), at most `max`; -1 when it is not one. */
function decimal(text: string, start: i32, end: i32, max: i32): i32 {
  if (start >= end || end - start > 5) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    value = value * 10 + (c - 0x30);
  }
  if (value > max) return -1;
  return value;
}
