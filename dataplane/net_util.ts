/**
 * Small promises over `node:net`: listen with a clear error, close a server;
 * and the one-line error for a failed listen, on either socket layer.
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
    const onError = (error: Error & { code?: string }) =>
      reject(listenFailure(address, what, error.code, error.message));
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

/** Why listening on `address` failed, in one line naming the fix (`code`: EADDRINUSE, …). */
export function listenFailure(
  address: HostPort,
  what: string,
  code: string | undefined,
  message: string,
): UserError {
  const where = formatHostPort(address.host, address.port);
  if (code === "EADDRINUSE") {
    return new UserError(
      `${what}: ${where} is already in use: stop what listens there ` +
        `(wasmerang down local) or choose another port`,
    );
  }
  if (code === "EADDRNOTAVAIL") {
    return new UserError(
      `${what}: ${address.host} is not an address of this machine`,
    );
  }
  return new UserError(`${what}: cannot listen on ${where}: ${message}`);
}

/** Stops accepting and resolves once the server is closed. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}
