/**
 * The local proxy alone, in its own process, in front of egress servers that
 * run elsewhere: the benchmark's like-for-like peer of nginx (a proxy process
 * and nothing else). Same proxy, filter and access log as `up local`.
 *
 * Usage: `deno run -A bench/proxy_only.ts LISTEN EGRESS1 EGRESS2 ACCESS_LOG`
 * (addresses as `host:port`); stops on SIGTERM or SIGINT.
 *
 * @module
 */
import { parseHostPort } from "../host/local/address.ts";
import { startProxy } from "../host/local/proxy.ts";
import { embeddedFilter } from "../lib/filter_module.ts";
import { ROOT_ID } from "../lib/routing.ts";

if (import.meta.main) {
  const [listen, egress1, egress2, accessLog] = Deno.args;
  const log = await Deno.open(accessLog, {
    create: true,
    append: true,
  });
  const encoder = new TextEncoder();
  const write = (line: string) => log.writeSync(encoder.encode(line + "\n"));
  const proxy = await startProxy({
    listen: parseHostPort(listen, "listen"),
    clusters: new Map([
      ["egress1", parseHostPort(egress1, "egress1")],
      ["egress2", parseHostPort(egress2, "egress2")],
    ]),
    defaultCluster: "egress1",
    wasm: embeddedFilter(),
    rootId: ROOT_ID,
    configuration: "standalone",
    onAccess: write,
    onFilterLog: (entry) => write(`[wasm ${entry.level}] ${entry.message}`),
  });
  await new Promise<void>((done) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      Deno.addSignalListener(signal, () => done());
    }
  });
  await proxy.close();
  log.close();
  Deno.exit(0);
}
