/**
 * nginx as the benchmark's peer: its stream module doing the filter's parity
 * routing with `map $remote_addr`, on loopback, from a config written into a
 * temporary directory, started and stopped by the benchmark.
 *
 * @module
 */
import { join } from "node:path";
import type { HostPort } from "../lib/address.ts";
import { installFromDebian, runQuietly, startServer } from "./processes.ts";

/** Where the Debian package puts the stream module. */
const STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so";
const NGINX = "/usr/sbin/nginx";

/** nginx and its stream module, when they are (or can be made) available. */
export interface NginxInstall {
  binary: string;
  streamModule: string;
  /** `nginx -v`'s version, e.g. `nginx/1.22.1`. */
  version: string;
  /** True when this run installed it. */
  installed: boolean;
}

/**
 * Finds nginx with the stream module; when either is missing, installs
 * `nginx` and `libnginx-mod-stream` with apt-get. Returns a reason (string)
 * when that is not possible.
 */
export async function ensureNginx(): Promise<NginxInstall | string> {
  const install = await installFromDebian(["nginx", "libnginx-mod-stream"], [
    NGINX,
    STREAM_MODULE,
  ]);
  if (typeof install === "string") return install;
  const version = await runQuietly(NGINX, ["-v"]);
  return {
    binary: NGINX,
    streamModule: STREAM_MODULE,
    version: version.output.trim().replace(/^nginx version: /, ""),
    installed: install.installed,
  };
}

/** What nginx should do. */
export interface NginxOptions {
  listen: HostPort;
  /** Upstreams for even and odd source addresses. */
  egress: [HostPort, HostPort];
  /** `worker_processes`: 1 (a fair peer for a single-threaded proxy) or "auto". */
  workers: number | "auto";
}

/** A running nginx. */
export interface RunningNginx {
  /** The master's pid (its workers are its children). */
  readonly pid: number;
  readonly config: string;
  /** Where its access log goes. */
  readonly accessLog: string;
  stop(): Promise<void>;
}

/**
 * The stream config: `map $remote_addr` sends sources whose last digit is
 * even to the first upstream and the others to the second (the filter's
 * parity rule for IPv4), with an access log line per connection and
 * half-close passed through (as the local proxy does).
 */
export function nginxConfig(
  options: NginxOptions,
  dir: string,
  streamModule = STREAM_MODULE,
): string {
  const at = (address: HostPort) => `${address.host}:${address.port}`;
  return `# Written by wasmerang's benchmark (bench/nginx.ts).
load_module ${streamModule};
worker_processes ${options.workers};
daemon off;
master_process on;
pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "error.log")} warn;
events { worker_connections 8192; }
stream {
  map $remote_addr $cluster {
    ~[02468]$ egress1;
    default egress2;
  }
  upstream egress1 { server ${at(options.egress[0])}; }
  upstream egress2 { server ${at(options.egress[1])}; }
  log_format wasmerang '[$time_iso8601] cluster=$cluster src=$remote_addr:$remote_port '
                       'dst=$server_addr:$server_port -> $upstream_addr bytes=$bytes_received/$bytes_sent $session_time';
  access_log ${join(dir, "access.log")} wasmerang;
  server {
    listen ${at(options.listen)};
    proxy_pass $cluster;
    proxy_half_close on;
  }
}
`;
}

/** Writes the config into a temporary directory, starts nginx and waits until it accepts connections. */
export async function startNginx(
  install: NginxInstall,
  options: NginxOptions,
): Promise<RunningNginx> {
  const dir = await Deno.makeTempDir({ prefix: "wasmerang-nginx-" });
  const config = join(dir, "nginx.conf");
  await Deno.writeTextFile(
    config,
    nginxConfig(options, dir, install.streamModule),
  );
  const test = await runQuietly(install.binary, [
    "-t",
    "-c",
    config,
    "-p",
    dir,
  ]);
  if (!test.ok) throw new Error(`nginx -t failed: ${test.output.trim()}`);
  const server = await startServer({
    argv: [install.binary, "-c", config, "-p", dir],
    listen: options.listen,
    stopSignal: "SIGQUIT", // graceful shutdown
    whyFailed: async () =>
      `nginx did not start: ${
        (await Deno.readTextFile(join(dir, "error.log")).catch(() => "")).trim()
      }`,
  });
  return {
    pid: server.pid,
    config,
    accessLog: join(dir, "access.log"),
    async stop() {
      await server.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
