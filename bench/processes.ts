/**
 * The processes and ports the data-plane benchmark sets up: child processes
 * with their output in a log file, waiting until a target accepts, free
 * loopback ports, and the CPU time a process and its children have used.
 *
 * @module
 */
import { createServer } from "node:net";
import type { HostPort } from "../lib/address.ts";
import { runCommand, shellQuote } from "../lib/commands.ts";
import { ROOT } from "./options.ts";
import { isFile } from "../lib/files.ts";

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

/** Runs a command; a missing program is a failure with its message, not a throw. */
export async function runQuietly(
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

/**
 * Installs Debian `packages` unless every path in `needed` exists; the reason
 * it could not, or undefined when they are there (`installed` tells whether
 * this run installed them).
 */
export async function installFromDebian(
  packages: string[],
  needed: string[],
): Promise<{ installed: boolean } | string> {
  if (needed.every(isFile)) return { installed: false };
  const apt = await runQuietly(
    "apt-get",
    ["install", "-y", "-q", ...packages],
    {
      DEBIAN_FRONTEND: "noninteractive",
    },
  );
  if (!apt.ok || !needed.every(isFile)) {
    return `${
      packages.join(" and ")
    } not installed and apt-get could not install it (${
      apt.output.trim().split("\n").pop() ?? "no output"
    })`;
  }
  return { installed: true };
}

/** A peer proxy the benchmark started. */
export interface RunningServer {
  /** Its process id. */
  pid: number;
  /** Stops it (`stopSignal`, then SIGKILL after 5 s) and waits. */
  stop(): Promise<void>;
}

/**
 * Starts `argv` and waits (up to 10 s) until `listen` accepts; when it exits
 * or does not come up, kills it and throws with `whyFailed()`.
 */
export async function startServer(options: {
  argv: string[];
  listen: HostPort;
  stopSignal: Deno.Signal;
  whyFailed: () => Promise<string>;
}): Promise<RunningServer> {
  const [command, ...args] = options.argv;
  const child = new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const status = child.status;
  let exited = false;
  status.then(() => (exited = true));
  const kill = (signal: Deno.Signal) => {
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
  };
  const deadline = Date.now() + 10_000;
  while (!(await accepts(options.listen))) {
    if (exited || Date.now() > deadline) {
      kill("SIGKILL");
      await status;
      throw new Error(await options.whyFailed());
    }
    await new Promise((done) => setTimeout(done, 50));
  }
  return {
    pid: child.pid,
    async stop() {
      if (exited) return;
      kill(options.stopSignal);
      const timer = setTimeout(() => kill("SIGKILL"), 5000);
      await status;
      clearTimeout(timer);
    },
  };
}

/**
 * Starts `deno ARGS` with stdout and stderr going straight to `logPath`
 * (through `sh -c 'exec …'`, so the benchmark's process copies nothing);
 * stop() sends SIGTERM, then SIGKILL after 5 s.
 */
export function spawnLogged(
  args: string[],
  logPath: string,
): { pid: number; stop(): Promise<void> } {
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      `exec ${shellQuote([Deno.execPath(), ...args])} >${
        shellQuote([logPath])
      } 2>&1`,
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  return {
    // `exec` makes the shell the program itself: this is its process.
    pid: child.pid,
    async stop() {
      const kill = (signal: Deno.Signal) => {
        try {
          child.kill(signal);
        } catch {
          // Already gone.
        }
      };
      kill("SIGTERM");
      const timer = setTimeout(() => kill("SIGKILL"), 5000);
      await child.status;
      clearTimeout(timer);
    },
  };
}

/** Waits (up to 20 s) until `address` accepts a connection. */
export async function waitAccepts(
  address: HostPort,
  what: string,
): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await accepts(address))) {
    if (Date.now() > deadline) throw new Error(`${what} did not start`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

/** `n` distinct free loopback ports (bound to 0, then released). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () => createServer());
  const ports = await Promise.all(
    servers.map((server) =>
      new Promise<number>((resolve) =>
        server.listen(
          0,
          "127.0.0.1",
          () => resolve((server.address() as { port: number }).port),
        )
      )
    ),
  );
  await Promise.all(
    servers.map((server) =>
      new Promise((done) => server.close(() => done(undefined)))
    ),
  );
  return ports;
}

/** CPU time a process tree used so far, in microseconds. */
export interface TreeCpu {
  /** User + system, from schedstat (nanoseconds). */
  total: number;
  /** In user space, from stat (clock ticks). */
  user: number;
  /**
   * In the kernel on the tree's behalf, from stat (clock ticks): its system
   * calls, and the loopback packet processing they run where the kernel does
   * not account interrupt time apart (CONFIG_IRQ_TIME_ACCOUNTING unset).
   */
  system: number;
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on Linux). */
const TICK_US = 1_000_000 / 100;

/**
 * CPU time used so far by `pid` and its descendants (nginx's and HAProxy's
 * workers), every thread of each: the total from
 * /proc/<pid>/task/<tid>/schedstat, which counts in nanoseconds, and its
 * user/system split from /proc/<pid>/task/<tid>/stat, which counts in 10 ms
 * ticks (fine over thousands of connections, too coarse for one).
 * Linux only.
 */
export function treeCpu(pid: number): TreeCpu {
  const cpu: TreeCpu = { total: 0, user: 0, system: 0 };
  for (const process of [pid, ...descendants(pid)]) {
    let tasks: Deno.DirEntry[];
    try {
      tasks = [...Deno.readDirSync(`/proc/${process}/task`)];
    } catch {
      continue; // Gone meanwhile.
    }
    for (const task of tasks) {
      const dir = `/proc/${process}/task/${task.name}`;
      try {
        const schedstat = Deno.readTextFileSync(`${dir}/schedstat`);
        const stat = Deno.readTextFileSync(`${dir}/stat`);
        // Fields after the command name: state is the 3rd field, utime the 14th, stime the 15th.
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        cpu.total += Number(schedstat.split(" ")[0]) / 1000;
        cpu.user += Number(fields[11]) * TICK_US;
        cpu.system += Number(fields[12]) * TICK_US;
      } catch { /* a thread that ended meanwhile */ }
    }
  }
  return cpu;
}

/** The processes below `pid`, from each process's parent in /proc/<n>/stat. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^[0-9]+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const parent = Number(
        stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1],
      );
      children.set(parent, [
        ...(children.get(parent) ?? []),
        Number(entry.name),
      ]);
    } catch { /* gone meanwhile */ }
  }
  const found: number[] = [];
  const visit = (parent: number) => {
    for (const child of children.get(parent) ?? []) {
      found.push(child);
      visit(child);
    }
  };
  visit(pid);
  return found;
}
