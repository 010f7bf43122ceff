/**
 * The worker side of {@link startEgressThread}: one egress server on its own
 * thread. Messages in: `{ start: { name, address } }`, then `"close"`.
 * Messages out: `{ address }` or `{ error }`, then `"closed"`.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import type { HostPort } from "../lib/address.ts";
import { type EgressServer, startEgress } from "./egress.ts";

let server: EgressServer | undefined;

self.onmessage = async (event: MessageEvent) => {
  if (event.data === "close") {
    await server?.close();
    self.postMessage("closed");
    return;
  }
  const { name, address } = event.data.start as {
    name: string;
    address: HostPort;
  };
  try {
    server = await startEgress(name, address);
    self.postMessage({ address: server.address });
  } catch (error) {
    self.postMessage({ error: (error as Error).message });
  }
};
