/**
 * An egress server on a thread of its own. In `up local` the egress servers
 * stand for other hosts: on their own threads they no longer take turns with
 * the proxy on its event loop.
 *
 * @module
 */
import { UserError } from "../lib/errors.ts";
import type { HostPort } from "../lib/address.ts";
import type { EgressServer } from "./egress.ts";

/** Starts an egress server named `name` on `address`, in a worker thread. */
export function startEgressThread(
  name: string,
  address: HostPort,
): Promise<EgressServer> {
  const worker = new Worker(new URL("./egress_worker.ts", import.meta.url), {
    type: "module",
  });
  return new Promise((resolve, reject) => {
    worker.onerror = (event) => {
      event.preventDefault();
      worker.terminate();
      reject(
        new UserError(`${name}: the egress thread failed: ${event.message}`),
      );
    };
    worker.onmessage = (event: MessageEvent) => {
      if (event.data.error !== undefined) {
        worker.terminate();
        reject(new UserError(event.data.error));
        return;
      }
      resolve({
        name,
        address: event.data.address,
        close: () =>
          new Promise<void>((closed) => {
            worker.onmessage = () => {
              worker.terminate();
              closed();
            };
            worker.postMessage("close");
          }),
      });
    };
    worker.postMessage({ start: { name, address } });
  });
}
