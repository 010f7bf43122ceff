/**
 * The local proxy alone, in its own process, in front of egress servers that
 * run elsewhere: the benchmark's like-for-like peer of nginx (a proxy process
 * and nothing else). Same proxy, filter and access log as `up local`.
 *
 * Reference floors: `--empty-filter` runs the same proxy with a proxy-wasm
 * module that does nothing (every callback a no-op; the default cluster for
 * all); `--bare` and `--bare-deno` are plain pipes choosing the egress by
 * parity in TypeScript — no wasm, no access log — on `node:net` and on
 * `Deno.listen`/`Deno.connect` (bench/bare_pipe.ts).
 *
 * Usage: `deno run -A bench/proxy_only.ts LISTEN EGRESS1 EGRESS2 ACCESS_LOG [--empty-filter|--bare|--bare-deno]`
 * (addresses as `host:port`); stops on SIGTERM or SIGINT.
 *
 * @module
 */
import { LineWriter } from "../lib/line_writer.ts";
import { type HostPort, parseHostPort } from "../lib/address.ts";
import { startProxy } from "../dataplane/proxy.ts";
import { TestModule } from "../host/testing/wat.ts";
import { embeddedFilter } from "../lib/filter_module.ts";
import { ROOT_ID } from "../lib/routing.ts";
import { startDenoBarePipe, startNodeBarePipe } from "./bare_pipe.ts";

/** A proxy-wasm module with no callbacks of its own: the host's and the proxy's cost alone. */
export async function emptyFilter(): Promise<Uint8Array> {
  return await new TestModule("0_2_0").build();
}

if (import.meta.main) {
  const [listenAt, egress1, egress2, accessLog, variant] = Deno.args;
  const address = parseHostPort(listenAt, "listen");
  const egress: [HostPort, HostPort] = [
    parseHostPort(egress1, "egress1"),
    parseHostPort(egress2, "egress2"),
  ];
  let stop: () => Promise<void>;
  const log = await Deno.open(accessLog, { create: true, append: true });
  if (variant === "--bare") {
    stop = await startNodeBarePipe(address, egress);
  } else if (variant === "--bare-deno") {
    stop = startDenoBarePipe(address, egress);
  } else {
    const lines = new LineWriter(log);
    const write = (line: string) => lines.write(line);
    const proxy = await startProxy({
      listen: address,
      clusters: new Map([["egress1", egress[0]], ["egress2", egress[1]]]),
      defaultCluster: "egress1",
      wasm: variant === "--empty-filter"
        ? await emptyFilter()
        : embeddedFilter(),
      rootId: ROOT_ID,
      configuration: "standalone",
      onAccess: write,
      onFilterLog: (entry) => write(`[wasm ${entry.level}] ${entry.message}`),
    });
    stop = async () => {
      await proxy.close();
      lines.flush();
    };
  }
  await new Promise<void>((done) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      Deno.addSignalListener(signal, () => done());
    }
  });
  await stop();
  log.close();
  Deno.exit(0);
}
