/**
 * The benchmark's floors: a bare TCP pipe choosing the egress by the
 * source's parity in TypeScript (no wasm, no access log), on either socket
 * layer Deno offers — `node:net`, or `Deno.listen`/`Deno.connect` with
 * pooled read buffers. What the local proxy could cost at best on each.
 *
 * @module
 */
import { connect, createServer } from "node:net";
import type { HostPort } from "../lib/address.ts";
import { listen } from "../dataplane/net_util.ts";
import { decideCluster, DEFAULT_CONFIG } from "../lib/routing.ts";

function egressFor(
  host: string,
  port: number,
  egress: [HostPort, HostPort],
): HostPort {
  const cluster = decideCluster(`${host}:${port}`, undefined, DEFAULT_CONFIG);
  return egress[cluster === "egress2" ? 1 : 0];
}

/** A bare pipe on `node:net` (`pipe()` both ways, half-close). Returns a stop function. */
export async function startNodeBarePipe(
  at: HostPort,
  egress: [HostPort, HostPort],
): Promise<() => Promise<void>> {
  const server = createServer({ allowHalfOpen: true }, (down) => {
    const target = egressFor(down.remoteAddress!, down.remotePort!, egress);
    const up = connect({
      host: target.host,
      port: target.port,
      allowHalfOpen: true,
    });
    down.pipe(up);
    up.pipe(down);
    down.on("error", () => up.destroy());
    up.on("error", () => down.destroy());
    down.on("close", () => up.destroy());
    up.on("close", () => down.destroy());
  });
  await listen(server, at, "bare pipe");
  return () => new Promise((done) => server.close(() => done()));
}

const BUFFER_SIZE = 16 * 1024;
const pool: Uint8Array[] = [];

/** Copies `from` to `to` until end of stream, then half-closes `to`; one pooled buffer while it runs. */
async function copy(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buffer = pool.pop() ?? new Uint8Array(BUFFER_SIZE);
  try {
    while (true) {
      const n = await from.read(buffer);
      if (n === null) break;
      let written = 0;
      while (written < n) {
        written += await to.write(buffer.subarray(written, n));
      }
    }
    await to.closeWrite();
  } finally {
    pool.push(buffer);
  }
}

/** A bare pipe on `Deno.listen`/`Deno.connect` with pooled buffers. Returns a stop function. */
export function startDenoBarePipe(
  at: HostPort,
  egress: [HostPort, HostPort],
): () => Promise<void> {
  const listener = Deno.listen({ hostname: at.host, port: at.port });
  const serve = async (down: Deno.TcpConn) => {
    const source = down.remoteAddr;
    const target = egressFor(source.hostname, source.port, egress);
    let up: Deno.TcpConn | undefined;
    try {
      up = await Deno.connect({ hostname: target.host, port: target.port });
      const upstream = up;
      await Promise.all([copy(down, upstream), copy(upstream, down)]);
    } catch {
      // A reset on either side ends both.
    } finally {
      for (const conn of [down, up]) {
        try {
          conn?.close();
        } catch { /* already closed */ }
      }
    }
  };
  const accepting = (async () => {
    try {
      for await (const down of listener) serve(down);
    } catch { /* closed */ }
  })();
  return async () => {
    listener.close();
    await accepting;
  };
}
