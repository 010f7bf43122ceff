/**
 * nginx as the benchmark's peer: its stream module doing the filter's parity
 * routing with `map $remote_addr`, on loopback, from a config written into a
 * temporary directory, started and stopped by the benchmark.
 *
 * @module
 */
import { join } from "node:path";
import type { HostPort } from "../lib/address.ts";
import { runCommand } from "../lib/commands.ts";

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
  let installed = false;
  if (!exists(NGINX) || !exists(STREAM_MODULE)) {
    const apt = await run("apt-get", [
      "install",
      "-y",
      "-q",
      "nginx",
      "libnginx-mod-stream",
    ], { DEBIAN_FRONTEND: "noninteractive" });
    if (!apt.ok || !exists(NGINX) || !exists(STREAM_MODULE)) {
      return `nginx with libnginx-mod-stream is not installed and apt-get could not install it (${
        apt.output.trim().split("\n").pop() ?? "no output"
      })`;
    }
    installed = true;
  }
  const version = await run(NGINX, ["-v"]);
  return {
    binary: NGINX,
    streamModule: STREAM_MODULE,
    version: version.output.trim().replace(/^nginx version: /, ""),
    installed,
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
  const test = await run(install.binary, ["-t", "-c", config, "-p", dir]);
  if (!test.ok) throw new Error(`nginx -t failed: ${test.output.trim()}`);
  const child = new Deno.Command(install.binary, {
    args: ["-c", config, "-p", dir],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const status = child.status;
  let exited = false;
  status.then(() => (exited = true));
  const deadline = Date.now() + 10_000;
  while (!(await accepts(options.listen))) {
    if (exited || Date.now() > deadline) {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      const error = await Deno.readTextFile(join(dir, "error.log")).catch(() =>
        ""
      );
      throw new Error(`nginx did not start: ${error.trim()}`);
    }
    await new Promise((done) => setTimeout(done, 50));
  }
  return {
    pid: child.pid,
    config,
    accessLog: join(dir, "access.log"),
    async stop() {
      if (!exited) {
        child.kill("SIGQUIT"); // graceful shutdown
        const timer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch { /* gone */ }
        }, 5000);
        await status;
        clearTimeout(timer);
      }
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Whether something accepts TCP connections at `address`. */
export async function accepts(address: HostPort): Promise<boolean> {
  try {
    const connection = await Deno.connect({
      hostname: address.host,
      port: address.port,
    });
    connection.close();
    return true;
  } catch {
    return false;
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Runs a command; a missing program is a failure with its message, not a throw. */
async function run(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ ok: boolean; output: string }> {
  try {
    const result = await runCommand([command, ...args], { env });
    return { ok: result.code === 0, output: result.stdout + result.stderr };
  } catch (error) {
    return { ok: false, output: (error as Error).message };
  }
}
