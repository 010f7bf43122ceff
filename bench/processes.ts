/**
 * The processes and ports the data-plane benchmark sets up: child processes
 * with their output in a log file, waiting until a target accepts, free
 * loopback ports.
 *
 * @module
 */
import { createServer } from "node:net";
import type { HostPort } from "../lib/address.ts";
import { shellQuote } from "../lib/commands.ts";
import { accepts } from "./nginx.ts";
import { ROOT } from "./options.ts";

/**
 * Starts `deno ARGS` with stdout and stderr going straight to `logPath`
 * (through `sh -c 'exec …'`, so the benchmark's process copies nothing);
 * stop() sends SIGTERM, then SIGKILL after 5 s.
 */
export function spawnLogged(
  args: string[],
  logPath: string,
): { stop(): Promise<void> } {
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
