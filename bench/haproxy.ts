/**
 * HAProxy as the benchmark's second peer: tcp mode, the filter's parity
 * routing with an ACL on the source address, one thread, an access-log line
 * per connection to a file, on loopback; installed from Debian when missing,
 * started and stopped by the benchmark.
 *
 * @module
 */
import { join } from "node:path";
import type { HostPort } from "../lib/address.ts";
import { shellQuote } from "../lib/commands.ts";
import { installFromDebian, runQuietly, startServer } from "./processes.ts";

const HAPROXY = "/usr/sbin/haproxy";

/** HAProxy, when it is (or can be made) available. */
export interface HaproxyInstall {
  binary: string;
  /** `haproxy -v`'s version, e.g. `2.6.12-1+deb12u4`. */
  version: string;
  /** True when this run installed it. */
  installed: boolean;
}

/** Finds HAProxy; when missing, installs Debian's `haproxy`. Returns a reason (string) when that is not possible. */
export async function ensureHaproxy(): Promise<HaproxyInstall | string> {
  const install = await installFromDebian(["haproxy"], [HAPROXY]);
  if (typeof install === "string") return install;
  const version = await runQuietly(HAPROXY, ["-v"]);
  return {
    binary: HAPROXY,
    version: /version (\S+)/.exec(version.output)?.[1] ?? "unknown",
    installed: install.installed,
  };
}

/** What HAProxy should do. */
export interface HaproxyOptions {
  listen: HostPort;
  /** Upstreams for even and odd source addresses. */
  egress: [HostPort, HostPort];
}

/** A running HAProxy. */
export interface RunningHaproxy {
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * The config: tcp mode, sources whose address ends in an even digit go to
 * the first server, the others to the second (the filter's parity rule for
 * IPv4); one thread; the tcplog line per connection on stdout.
 */
export function haproxyConfig(options: HaproxyOptions): string {
  const at = (address: HostPort) => `${address.host}:${address.port}`;
  return `# Written by wasmerang's benchmark (bench/haproxy.ts).
global
  nbthread 1
  maxconn 8192
  log stdout format raw local0 info

defaults
  mode tcp
  log global
  option tcplog
  timeout connect 5s
  timeout client 60s
  timeout server 60s

frontend parity
  bind ${at(options.listen)}
  acl even_src src -m reg [02468]$
  use_backend egress1 if even_src
  default_backend egress2

backend egress1
  server egress1 ${at(options.egress[0])}

backend egress2
  server egress2 ${at(options.egress[1])}
`;
}

/** Writes the config into `work`, starts HAProxy (log to a file there) and waits until it accepts. */
export async function startHaproxy(
  install: HaproxyInstall,
  options: HaproxyOptions,
  work: string,
): Promise<RunningHaproxy> {
  const config = join(work, "haproxy.cfg");
  const log = join(work, "haproxy.log");
  await Deno.writeTextFile(config, haproxyConfig(options));
  const test = await runQuietly(install.binary, ["-c", "-q", "-f", config]);
  if (!test.ok) throw new Error(`haproxy -c failed: ${test.output.trim()}`);
  // `exec`: the shell becomes HAProxy, so the pid is HAProxy's own.
  return await startServer({
    argv: [
      "sh",
      "-c",
      `exec ${shellQuote([install.binary, "-db", "-f", config])} >${
        shellQuote([log])
      } 2>&1`,
    ],
    listen: options.listen,
    stopSignal: "SIGTERM",
    whyFailed: async () =>
      `haproxy did not start: ${
        (await Deno.readTextFile(log).catch(() => "")).trim()
      }`,
  });
}
