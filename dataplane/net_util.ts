/**
 * Small promises over `node:net`: listen with a clear error, close a server.
 *
 * @module
 */
import type { Server } from "node:net";
import { UserError } from "../lib/errors.ts";
import { formatHostPort, type HostPort } from "../lib/address.ts";

/** Listens on `address`; resolves with the bound address (the real port when 0 was asked). */
export function listen(
  server: Server,
  address: HostPort,
  what: string,
): Promise<HostPort> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error & { code?: string }) => {
      const where = formatHostPort(address.host, address.port);
      if (error.code === "EADDRINUSE") {
        reject(
          new UserError(
            `${what}: ${where} is already in use: stop what listens there ` +
              `(wasmerang down local) or choose another port`,
          ),
        );
      } else if (error.code === "EADDRNOTAVAIL") {
        reject(
          new UserError(
            `${what}: ${address.host} is not an address of this machine`,
          ),
        );
      } else {
        reject(
          new UserError(`${what}: cannot listen on ${where}: ${error.message}`),
        );
      }
    };
    server.once("error", onError);
    server.listen(address.port, address.host, () => {
      server.off("error", onError);
      // Later errors (accept failing when out of file descriptors, …) must not end the process.
      server.on(
        "error",
        (error: Error) => console.error(`${what}: ${error.message}`),
      );
      const bound = server.address();
      if (bound === null || typeof bound === "string") {
        resolve(address);
      } else {
        resolve({ host: bound.address, port: bound.port });
      }
    });
  });
}

/** Stops accepting and resolves once the server is closed. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}
