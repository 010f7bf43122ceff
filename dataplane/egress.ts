/**
 * An egress server of the local example: answers every connection with one
 * line naming itself (`egress1\n`), then echoes what it receives, honouring
 * half-close (the echo ends when the client's side does).
 *
 * @module
 */
import { createServer, type Socket } from "node:net";
import type { HostPort } from "../lib/address.ts";
import { closeServer, listen } from "./net_util.ts";

/** A running egress server. */
export interface EgressServer {
  /** Its name, which is also its banner. */
  readonly name: string;
  /** Where it listens (the real port when 0 was asked). */
  readonly address: HostPort;
  /** Stops it and drops its connections. */
  close(): Promise<void>;
}

/**
 * Starts an egress server named `name` on `address`.
 *
 * @example
 * ```ts
 * import { startEgress } from "./egress.ts";
 * const egress = await startEgress("egress1", { host: "127.0.0.1", port: 0 });
 * console.log(egress.address.port);
 * await egress.close();
 * ```
 */
export async function startEgress(
  name: string,
  address: HostPort,
): Promise<EgressServer> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    socket.write(`${name}\n`);
    socket.pipe(socket);
  });
  const bound = await listen(server, address, name);
  return {
    name,
    address: bound,
    async close() {
      const closed = closeServer(server);
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
