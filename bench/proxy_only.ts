/**
 * The local proxy alone, in its own process, in front of egress servers that
 * run elsewhere: the benchmark's like-for-like peer of nginx (a proxy process
 * and nothing else). Same proxy, filter and access log as `up local`.
 *
 * Two reference floors show where a connection's time goes:
 * `--empty-filter` runs the same proxy with a proxy-wasm module that does
 * nothing (every callback a no-op; the default cluster for all), and `--bare`
 * is a plain `node:net` pipe choosing the egress by parity in TypeScript —
 * no wasm, no access log.
 *
 * Usage: `deno run -A bench/proxy_only.ts LISTEN EGRESS1 EGRESS2 ACCESS_LOG [--empty-filter|--bare]`
 * (addresses as `host:port`); stops on SIGTERM or SIGINT.
 *
 * @module
 */
import { LineWriter } from "../lib/line_writer.ts";
import { connect, createServer } from "node:net";
import { type HostPort, parseHostPort } from "../lib/address.ts";
import { listen } from "../dataplane/net_util.ts";
import { startProxy } from "../dataplane/proxy.ts";
import { TestModule } from "../host/testing/wat.ts";
import { embeddedFilter } from "../lib/filter_module.ts";
import { decideCluster, DEFAULT_CONFIG, ROOT_ID } from "../lib/routing.ts";

/** A proxy-wasm module with no callbacks of its own: the host's and the proxy's cost alone. */
export async function emptyFilter(): Promise<Uint8Array> {
  return await new TestModule("0_2_0").build();
}

/**
 * A bare TCP pipe: each connection goes to the egress its source's parity
 * names, bytes piped both ways with half-close. Returns a stop function.
 */
export async function startBarePipe(
  at: HostPort,
  egress: [HostPort, HostPort],
): Promise<() => Promise<void>> {
  const server = createServer({ allowHalfOpen: true }, (down) => {
    const source = `${down.remoteAddress}:${down.remotePort}`;
    const cluster = decideCluster(source, undefined, DEFAULT_CONFIG);
    const target = egress[cluster === "egress2" ? 1 : 0];
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
    stop = await startBarePipe(address, egress);
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
