// The plugin configuration: "standalone", "istio" (bare or as a JSON string), or a JSON
// object with any of mode, clusters, namespace, domain, port. Mirrors lib/routing.ts.

export class RouteConfig {
  istio: bool = false;
  evenCluster: string = "egress1";
  oddCluster: string = "egress2";
  namespace: string = "default";
  domain: string = "cluster.local";
  /** A fixed port for Istio names; 0 takes the connection's destination port. */
  port: i32 = 0;
  /** Empty when the configuration is valid; otherwise what is wrong with it. */
  error: string = "";

  describe(): string {
    if (!this.istio) {
      return "mode=standalone clusters=" + this.evenCluster + "," +
        this.oddCluster;
    }
    return "mode=istio clusters=" + this.evenCluster + "," + this.oddCluster +
      " namespace=" + this.namespace + " domain=" + this.domain +
      " port=" + this.portText();
  }

  portText(): string {
    if (this.port > 0) return this.port.toString();
    return "destination";
  }
}

/** Longest configuration accepted, in characters: anything larger is refused, not parsed. */
const MAX_CONFIG_LENGTH: i32 = 65536;
/** Deepest nesting of arrays and objects the reader follows (a valid configuration needs 2). */
const MAX_DEPTH: i32 = 32;

/** How many code units of a refused text an error message quotes (lib/routing.ts QUOTED_TEXT_LIMIT). */
const QUOTED_TEXT_LIMIT: i32 = 64;

function isControl(c: i32): bool {
  return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

function isHighSurrogate(c: i32): bool {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLowSurrogate(c: i32): bool {
  return c >= 0xdc00 && c <= 0xdfff;
}

/**
 * Not empty, no control character (U+0000-U+001F, U+007F-U+009F), no unpaired
 * surrogate: what a cluster name (or a part of one) may be. lib/routing.ts
 * isUsableName is the same rule.
 */
export function isUsableName(text: string): bool {
  if (text.length == 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isControl(c) || isLowSurrogate(c)) return false;
    if (isHighSurrogate(c)) {
      if (i + 1 >= text.length || !isLowSurrogate(text.charCodeAt(i + 1))) {
        return false;
      }
      i++;
    }
  }
  return true;
}

const HEX = "0123456789abcdef";

/** `text` quoted for a one-line message, exactly as lib/routing.ts quoteText does. */
export function quoteText(text: string): string {
  const cut = text.length > QUOTED_TEXT_LIMIT;
  const part = cut ? text.substring(0, QUOTED_TEXT_LIMIT) : text;
  let out = '"';
  for (let i = 0; i < part.length; i++) {
    const c = part.charCodeAt(i);
    const paired = isHighSurrogate(c) && i + 1 < part.length &&
      isLowSurrogate(part.charCodeAt(i + 1));
    if (paired) {
      out += part.substring(i, i + 2);
      i++;
    } else if (c == 0x22) out += '\\"';
    else if (c == 0x5c) out += "\\\\";
    else if (
      isControl(c) || c == 0x2028 || c == 0x2029 || isHighSurrogate(c) ||
      isLowSurrogate(c)
    ) {
      out += "\\u" + HEX.charAt((c >> 12) & 15) + HEX.charAt((c >> 8) & 15) +
        HEX.charAt((c >> 4) & 15) + HEX.charAt(c & 15);
    } else out += String.fromCharCode(c);
  }
  return out + '"' + (cut ? "\u2026" : "");
}

function nameProblem(what: string): string {
  return "invalid configuration: " + what +
    " must not contain control characters or unpaired surrogates";
}

export function parseConfig(raw: string): RouteConfig {
  const config = new RouteConfig();
  if (raw.length > MAX_CONFIG_LENGTH) {
    config.error = "invalid configuration: longer than " +
      MAX_CONFIG_LENGTH.toString() + " characters";
    return config;
  }
  const text = raw.trim();
  if (text == "" || text == "standalone" || text == '"standalone"') {
    return config;
  }
  if (text == "istio" || text == '"istio"') {
    config.istio = true;
    return config;
  }
  if (!text.startsWith("{")) {
    config.error = "invalid configuration " + quoteText(text) +
      ': expected "standalone", "istio" or a JSON object';
    return config;
  }
  const reader = new JsonReader(text);
  config.error = reader.readConfigObject(config);
  return config;
}

/** Just enough of a strict JSON reader for the configuration object. */
class JsonReader {
  text: string;
  at: i32 = 0;
  failed: bool = false;
  /** Arrays and objects open around the reader's position (the config object is 1). */
  depth: i32 = 1;
  tooDeep: bool = false;

  constructor(text: string) {
    this.text = text;
  }

  readConfigObject(config: RouteConfig): string {
    const problem = this.readObjectFields(config);
    if (this.tooDeep) {
      return "invalid configuration: nested deeper than " +
        MAX_DEPTH.toString() + " levels";
    }
    return problem;
  }

  readObjectFields(config: RouteConfig): string {
    const notJson = "invalid configuration: not valid JSON";
    if (!this.take(0x7b)) return notJson; // {
    if (this.take(0x7d)) return this.atEnd() ? "" : notJson; // }
    do {
      const key = this.readString();
      if (this.failed || !this.take(0x3a)) return notJson; // :
      const problem = this.readValue(key, config);
      if (this.failed) return notJson;
      if (problem.length > 0) return problem;
    } while (this.take(0x2c)); // ,
    if (!this.take(0x7d) || !this.atEnd()) return notJson;
    return "";
  }

  readValue(key: string, config: RouteConfig): string {
    if (key == "mode") {
      const mode = this.readStringOrSkip();
      if (mode != "standalone" && mode != "istio") {
        return 'invalid configuration: "mode" must be "standalone" or "istio"';
      }
      config.istio = mode == "istio";
    } else if (key == "clusters") {
      const names = this.readStringArray();
      if (
        names == null || names.length != 2 || names[0].length == 0 ||
        names[1].length == 0
      ) {
        return 'invalid configuration: "clusters" must be two non-empty strings';
      }
      if (!isUsableName(names[0]) || !isUsableName(names[1])) {
        return nameProblem('"clusters"');
      }
      config.evenCluster = names[0];
      config.oddCluster = names[1];
    } else if (key == "port") {
      const port = this.readInteger();
      if (port < 1 || port > 65535) {
        return 'invalid configuration: "port" must be an integer from 1 to 65535';
      }
      config.port = port;
    } else if (key == "namespace" || key == "domain") {
      const value = this.readStringOrSkip();
      if (value.length == 0) {
        return 'invalid configuration: "' + key +
          '" must be a non-empty string';
      }
      if (!isUsableName(value)) return nameProblem('"' + key + '"');
      if (key == "namespace") config.namespace = value;
      else config.domain = value;
    } else {
      return "invalid configuration: unknown key " + quoteText(key);
    }
    return "";
  }

  peek(): i32 {
    this.skipSpace();
    return this.at < this.text.length ? this.text.charCodeAt(this.at) : -1;
  }

  take(c: i32): bool {
    if (this.peek() != c) return false;
    this.at++;
    return true;
  }

  atEnd(): bool {
    return this.peek() == -1;
  }

  skipSpace(): void {
    while (this.at < this.text.length) {
      const c = this.text.charCodeAt(this.at);
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) break;
      this.at++;
    }
  }

  readString(): string {
    if (!this.take(0x22)) {
      this.failed = true;
      return "";
    }
    let out = "";
    while (this.at < this.text.length) {
      const c = this.text.charCodeAt(this.at++);
      if (c == 0x22) return out;
      if (c < 0x20) break;
      if (c != 0x5c) {
        out += String.fromCharCode(c);
        continue;
      }
      if (this.at >= this.text.length) break;
      const escape = this.text.charCodeAt(this.at++);
      if (escape == 0x22 || escape == 0x5c || escape == 0x2f) {
        out += String.fromCharCode(escape);
      } else if (escape == 0x6e) out += "\n";
      else if (escape == 0x74) out += "\t";
      else if (escape == 0x72) out += "\r";
      else if (escape == 0x62) out += "\b";
      else if (escape == 0x66) out += "\f";
      else if (escape == 0x75 && this.at + 4 <= this.text.length) {
        const code = parseInt(this.text.substr(this.at, 4), 16);
        if (isNaN(code)) break;
        out += String.fromCharCode(<i32> code);
        this.at += 4;
      } else break;
    }
    this.failed = true;
    return "";
  }

  /** A string value, or "" (and the value skipped) when it is something else. */
  readStringOrSkip(): string {
    if (this.peek() == 0x22) return this.readString();
    this.skipValue();
    return "";
  }

  /** An array of strings; null (and the value skipped) when it is something else. */
  readStringArray(): Array<string> | null {
    if (this.peek() != 0x5b) {
      this.skipValue();
      return null;
    }
    this.at++;
    const names = new Array<string>(0);
    if (this.take(0x5d)) return names;
    this.depth++;
    let allStrings = true;
    do {
      if (this.peek() == 0x22) names.push(this.readString());
      else {
        allStrings = false;
        this.skipValue();
      }
      if (this.failed) return null;
    } while (this.take(0x2c));
    this.depth--;
    if (!this.take(0x5d)) this.failed = true;
    if (!allStrings) return null;
    return names;
  }

  /** A non-negative integer literal; -1 (and the value skipped) for anything else. */
  readInteger(): i32 {
    this.skipSpace();
    const start = this.at;
    let value: i64 = 0;
    while (this.at < this.text.length) {
      const digit = this.text.charCodeAt(this.at) - 0x30;
      if (digit < 0 || digit > 9) break;
      if (value < 1000000) value = value * 10 + digit;
      this.at++;
    }
    const next = this.peek();
    if (this.at == start || next == 0x2e || next == 0x65 || next == 0x45) {
      this.at = start;
      this.skipValue();
      return -1;
    }
    return <i32> value;
  }

  /** Skips one JSON value of any kind, marking the reader failed on malformed or too deep input. */
  skipValue(): void {
    const c = this.peek();
    if (c == 0x22) {
      this.readString();
    } else if (c == 0x5b || c == 0x7b) {
      if (this.depth >= MAX_DEPTH) {
        this.tooDeep = true;
        this.failed = true;
        return;
      }
      this.depth++;
      this.skipContainer(c);
      this.depth--;
    } else {
      // A number or a literal: a run of the characters they are made of.
      const start = this.at;
      while (this.at < this.text.length) {
        const d = this.text.charCodeAt(this.at);
        const part = (d >= 0x30 && d <= 0x39) || d == 0x2d || d == 0x2b ||
          d == 0x2e ||
          (d >= 0x61 && d <= 0x7a);
        if (!part) break;
        this.at++;
      }
      const word = this.text.substring(start, this.at);
      const literal = word == "true" || word == "false" || word == "null";
      const numeric = word.length > 0 && !isNaN(parseFloat(word));
      if (!literal && !numeric) this.failed = true;
    }
  }

  /** Skips an array or object whose opening character `c` is next. */
  skipContainer(c: i32): void {
    const close = c == 0x5b ? 0x5d : 0x7d;
    this.at++;
    if (this.take(close)) return;
    do {
      if (c == 0x7b) {
        this.readString();
        if (this.failed || !this.take(0x3a)) {
          this.failed = true;
          return;
        }
      }
      this.skipValue();
      if (this.failed) return;
    } while (this.take(0x2c));
    if (!this.take(close)) this.failed = true;
  }
}
