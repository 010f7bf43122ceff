/**
 * `wasmerang up local`: the example in the foreground until Ctrl-C, or with
 * `--detach` in a background process recorded in the state file, so that
 * `probe local` and `down local` find it.
 *
 * @module
 */
import { LineWriter } from "../../lib/line_writer.ts";
import { loadFilter } from "../../lib/filter_module.ts";
import { loadShippableFilter } from "../../lib/module_check.ts";
import { hint } from "../../lib/ui.ts";
import { formatHostPort, parseHostPort } from "../../lib/address.ts";
import { parseListenOptions } from "../../lib/listen_options.ts";
import {
  LOCAL_DEFAULTS,
  localConfig,
  type LocalPlane,
  startLocalPlane,
} from "../../dataplane/plane.ts";
import {
  detachSelf,
  flagsFor,
  isDetachedChild,
  refuseSecondExample,
  runDetachedChild,
  untilSignal,
} from "../../lib/detach.ts";
import { logFile, stateFile } from "../../lib/state.ts";

/**
 * The example shows each connection's decision: the filter writes that line
 * at debug (as in Envoy with `--component-log-level wasm:debug`).
 */
const FILTER_LOG_LEVEL = "debug";

/** Options of `wasmerang up local`. */
export interface LocalUpOptions {
  listen?: string;
  egress1?: string;
  egress2?: string;
  config?: string;
  wasm?: string;
  detach?: boolean;
  /** Print what would start where; start and write nothing. */
  dryRun?: boolean;
}

/** The options `up local` takes (any other flag is refused). */
export const LOCAL_UP_OPTIONS = [
  "listen",
  "egress1",
  "egress2",
  "config",
  "wasm",
  "detach",
  "dryRun",
] as const satisfies readonly (keyof LocalUpOptions)[];

/** Starts the local example as the options say. */
export async function upLocal(options: LocalUpOptions = {}): Promise<void> {
  const { listen, egress1, egress2 } = parseListenOptions({
    listen: options.listen ?? LOCAL_DEFAULTS.listen,
    egress1: options.egress1 ?? LOCAL_DEFAULTS.egress1,
    egress2: options.egress2 ?? LOCAL_DEFAULTS.egress2,
  });
  const config = options.config ?? LOCAL_DEFAULTS.config;
  localConfig(config);
  refuseSecondExample("local");
  if (options.dryRun) return await dryRunLocal(options);
  if (options.detach) return await detach(options);
  if (isDetachedChild()) return await runDetachedLocal(options);

  const wasm = await loadShippableFilter(options.wasm, config);
  const out = new LineWriter(Deno.stdout);
  const plane = await startLocalPlane({
    listen,
    egress: [egress1, egress2],
    config,
    wasm,
    onAccess: (line) => out.write(line),
    onFilterLog: (entry) => out.write(`[wasm ${entry.level}] ${entry.message}`),
    logLevel: FILTER_LOG_LEVEL,
    egressThreads: true,
  });
  console.error(describe(plane));
  hint(
    `Probe it from another terminal: ${
      probeCommand(plane, config)
    }   ·   stop: Ctrl-C`,
  );
  await untilSignal();
  await plane.close();
  out.flush();
  console.error("stopped");
}

/**
 * The probe command for a foreground example: it records no state, so the
 * probe is told where the proxy listens and which configuration it runs.
 */
export function probeCommand(plane: LocalPlane, config: string): string {
  const parts = ["wasmerang probe local"];
  const listen = formatHostPort(plane.listen.host, plane.listen.port);
  if (listen !== LOCAL_DEFAULTS.listen) parts.push(`--to ${listen}`);
  if (config !== LOCAL_DEFAULTS.config) {
    parts.push(`--config '${config.replaceAll("'", `'\\''`)}'`);
  }
  return parts.join(" ");
}

/** One line per part: where the proxy and each egress listen. */
export function describe(plane: LocalPlane): string {
  const at = (address: { host: string; port: number }) =>
    formatHostPort(address.host, address.port);
  return [
    `proxy   ${at(plane.listen)}  (filter: parity of the source address)`,
    ...plane.egress.map((server) =>
      `${server.name.padEnd(7)} ${at(server.address)}`
    ),
  ].join("\n");
}

/** The background process: the plane, logging to the log file. */
async function runDetachedLocal(options: LocalUpOptions): Promise<void> {
  await runDetachedChild("local", async (write) => {
    const plane = await startLocalPlane({
      listen: parseHostPort(
        options.listen ?? LOCAL_DEFAULTS.listen,
        "--listen",
      ),
      egress: [
        parseHostPort(options.egress1 ?? LOCAL_DEFAULTS.egress1, "--egress1"),
        parseHostPort(options.egress2 ?? LOCAL_DEFAULTS.egress2, "--egress2"),
      ],
      config: options.config ?? LOCAL_DEFAULTS.config,
      wasm: await loadFilter(options.wasm),
      onAccess: write,
      onFilterLog: (entry) => write(`[wasm ${entry.level}] ${entry.message}`),
      logLevel: FILTER_LOG_LEVEL,
      egressThreads: true,
    });
    const at = (address: { host: string; port: number }) =>
      formatHostPort(address.host, address.port);
    return {
      state: {
        listen: at(plane.listen),
        egress: Object.fromEntries(
          plane.egress.map((server) => [server.name, at(server.address)]),
        ),
        config: options.config ?? LOCAL_DEFAULTS.config,
      },
      summary: describe(plane).replaceAll("\n", "; "),
      close: () => plane.close(),
    };
  });
}

/** `--dry-run`: what would start where (the module is read to check it); nothing starts. */
async function dryRunLocal(options: LocalUpOptions): Promise<void> {
  const config = options.config ?? LOCAL_DEFAULTS.config;
  await loadShippableFilter(options.wasm, config);
  const free = (address: string) =>
    address.endsWith(":0") ? `${address} (any free port)` : address;
  console.log(
    `dry run: would start the local example ${
      options.detach
        ? `in the background, recorded in ${stateFile("local")}, logging to ${
          logFile("local")
        }`
        : "in the foreground, until Ctrl-C"
    }`,
  );
  console.log(
    `proxy   ${free(options.listen ?? LOCAL_DEFAULTS.listen)}  (filter: ${
      options.wasm ?? "the embedded module"
    }, configuration ${config})`,
  );
  console.log(`egress1 ${free(options.egress1 ?? LOCAL_DEFAULTS.egress1)}`);
  console.log(`egress2 ${free(options.egress2 ?? LOCAL_DEFAULTS.egress2)}`);
  console.log("nothing was started or written");
}

/** Starts this same command in the background and waits until it listens. */
async function detach(options: LocalUpOptions): Promise<void> {
  const args = flagsFor(
    options,
    ["listen", "egress1", "egress2", "config"],
    ["wasm"],
  );
  // A bad --wasm is reported here, not in the background.
  await loadShippableFilter(
    options.wasm,
    options.config ?? LOCAL_DEFAULTS.config,
  );
  const state = await detachSelf("local", args);
  console.log(`local example running in the background (pid ${state.pid})`);
  console.log(`proxy   ${state.listen}`);
  for (const [name, address] of Object.entries(state.egress)) {
    console.log(`${name.padEnd(7)} ${address}`);
  }
  console.log(`log     ${state.logFile}`);
  hint(
    "Probe it: wasmerang probe local   ·   stop it: wasmerang down local",
  );
}
