/**
 * The generator fuzz shared by bootstrap_test.ts (a few dozen seeded cases)
 * and bootstrap_fuzz_soak.ts (many): random cluster names, configuration
 * strings and listener/admin/egress addresses go through what `up envoy` does
 * before start (parseFilterConfig, parseHostPort, the filter's cluster choice,
 * envoyBootstrap). Each case ends one of two ways: the tool refuses in one
 * line, or a real Envoy accepts the bootstrap (`--mode validate`, and for some
 * cases a real start read back through admin /config_dump) with exactly the
 * intended chain: wasm, then tcp_proxy, and the intended cluster names.
 *
 * @module
 */
import { parse } from "yaml";
import { join } from "node:path";
import { type HostPort, parseHostPort } from "../address.ts";
import assert from "node:assert/strict";
import {
  decideCluster,
  parseFilterConfig,
  quoteText,
  ROOT_ID,
} from "../routing.ts";
import { ConfigurationRejectedError, ProxyWasmVm } from "../../host/mod.ts";
import { embeddedFilter } from "../filter_module.ts";
import { random } from "../../host/testing/fuzz.ts";
import type { EnvoyBinary } from "./binary.ts";
import { envoyBootstrap } from "./bootstrap.ts";

/** Pieces hostile to YAML, JSON, Envoy and terminals, that names are made of. */
const PIECES = [
  "y",
  "on",
  "null",
  "~",
  "no",
  "True",
  "1e3",
  "0x10",
  "0o17",
  "010",
  ".inf",
  "-",
  "? ",
  ": ",
  "- ",
  "#",
  " #x",
  "&a",
  "*a",
  "!tag ",
  "!!str ",
  "%",
  "@",
  "`",
  "|",
  ">",
  "{",
  "}",
  "[",
  "]",
  ",",
  "'",
  '\\"',
  "\\\\",
  "\\n",
  "\\r",
  "\\t",
  "\\u0000",
  "\\u001b",
  "\\u007f",
  "\\u0085",
  "\\u2028",
  "\\u2029",
  "\\ufeff",
  "\\ud800",
  "\\udc00",
  "\\ud83d\\ude00",
  "é",
  "ü",
  "😀",
  "\u00a0",
  "\\n  - name: envoy.filters.network.rbac",
  "outbound|9000||",
  "egress1",
  "e1",
  " ",
  "---",
  "...",
  "<<",
  "=",
];

/** One random name as JSON string content (escapes included). */
export function randomNameJson(next: () => number): string {
  const count = 1 + Math.floor(next() * 3);
  let out = "";
  for (let i = 0; i < count; i++) {
    out += PIECES[Math.floor(next() * PIECES.length)];
  }
  if (next() < 0.05) out += "x".repeat(Math.floor(next() * 3000));
  return out;
}

/** One random plugin configuration. */
export function randomConfig(next: () => number): string {
  const name = () => `"${randomNameJson(next)}"`;
  switch (Math.floor(next() * 6)) {
    case 0:
      return `{"clusters":[${name()},${name()}]}`;
    case 1:
      return `{"mode":"istio","namespace":${name()},"domain":${name()}}`;
    case 2:
      return `{"mode":"istio","clusters":[${name()},${name()}],"port":${
        1 + Math.floor(next() * 65535)
      }}`;
    case 3:
      return `{${name()}:1}`;
    case 4:
      return JSON.parse(name().replace(/\\u[dD][89a-fA-F]../g, "")) as string;
    default:
      return next() < 0.5 ? "standalone" : "istio";
  }
}

const HOSTS = [
  "127.0.0.1",
  "127.0.0.1",
  "127.0.0.1",
  "localhost",
  "127.000.000.001",
  "0x7f.1",
  "[::1]",
  "::1",
  "y",
  "on",
  "1.2.3",
  " 127.0.0.1",
  "[127.0.0.1]",
];

/** One random `host:port` as a user types it (port 0: any free one). */
export function randomAddress(next: () => number): string {
  if (next() < 0.9) return "127.0.0.1:0";
  const host = HOSTS[Math.floor(next() * HOSTS.length)];
  const port = next() < 0.9 ? "0" : `${Math.floor(next() * 99999)}`;
  return `${host}:${port}`;
}

/** A case: what `up envoy` is given. */
export interface GeneratorCase {
  /** `--config`. */
  config: string;
  /** `--listen`, `--admin`, `--egress1`, `--egress2`. */
  addresses: [string, string, string, string];
}

/** A random case. */
export function randomCase(next: () => number): GeneratorCase {
  return {
    config: randomConfig(next),
    addresses: [0, 1, 2, 3].map(() => randomAddress(next)) as GeneratorCase[
      "addresses"
    ],
  };
}

/** What the tool does with a case before any process starts. */
export type Outcome =
  | { refused: string }
  | {
    bootstrap: string;
    clusters: [string, string];
    listen: HostPort;
    admin: HostPort;
  };

/**
 * The case through the generators, as `up envoy` runs them before start;
 * `wasmFilename` is the module's path. A refusal is the error's message.
 */
export function generate(c: GeneratorCase, wasmFilename: string): Outcome {
  try {
    const config = parseFilterConfig(c.config);
    const [listen, admin, egress1, egress2] = c.addresses.map((text, i) =>
      parseHostPort(text, ["--listen", "--admin", "--egress1", "--egress2"][i])
    );
    const clusters = ["127.0.0.2:1", "127.0.0.3:1"].map((source) =>
      decideCluster(source, `127.0.0.1:${listen.port || 1}`, config)
    );
    if (clusters[0] === undefined || clusters[1] === undefined) {
      return { refused: "--config: the filter would choose no cluster here" };
    }
    const bootstrap = envoyBootstrap({
      writtenBy: "wasmerang up envoy",
      checkCommand: `wasmerang check ${wasmFilename}`,
      admin: { address: admin.host, port: admin.port },
      listener: { address: listen.host, port: listen.port },
      configuration: c.config,
      wasmFilename,
      clusters: [egress1, egress2].map((egress, i) => ({
        name: clusters[i]!,
        address: egress.host,
        port: egress.port || 1,
      })),
      clusterType: "STATIC",
    });
    return {
      bootstrap,
      clusters: clusters as [string, string],
      listen,
      admin,
    };
  } catch (error) {
    return { refused: (error as Error).message };
  }
}

type Json = Record<string, unknown>;

/**
 * Throws unless `bootstrap` (as YAML 1.1 reads it, like Envoy's reader) holds
 * exactly one listener whose chain is wasm (with `config` as its
 * configuration) then tcp_proxy (to the first cluster), and exactly the
 * `clusters`.
 */
export function checkChain(
  bootstrap: Json,
  config: string,
  clusters: readonly string[],
): void {
  const resources = bootstrap.static_resources as Json;
  const listeners = resources.listeners as Json[];
  const fail = (what: string) => {
    throw new Error(`${what} (config ${quoteText(config)})`);
  };
  if (listeners.length !== 1) fail("not one listener");
  const chains = listeners[0].filter_chains as Json[];
  const filters = chains[0].filters as Json[];
  const names = filters.map((filter) => filter.name);
  if (
    chains.length !== 1 ||
    JSON.stringify(names) !==
      '["envoy.filters.network.wasm","envoy.filters.network.tcp_proxy"]'
  ) {
    fail(`filter chain ${JSON.stringify(names)}`);
  }
  const wasm = (filters[0].typed_config as Json).config as Json;
  if ((wasm.configuration as Json).value !== config) {
    fail("configuration changed");
  }
  if ((filters[1].typed_config as Json).cluster !== clusters[0]) {
    fail("tcp_proxy's cluster");
  }
  const defined = (resources.clusters as Json[]).map((cluster) => cluster.name);
  if (JSON.stringify(defined) !== JSON.stringify(clusters)) {
    fail(`clusters ${JSON.stringify(defined)}`);
  }
}

/** Runs `envoy --mode validate`; resolves with its first error line or undefined. */
export async function envoyValidates(
  envoy: EnvoyBinary,
  file: string,
): Promise<string | undefined> {
  const output = await new Deno.Command(envoy.path, {
    args: ["--mode", "validate", "-c", file, "-l", "critical"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (output.success) return undefined;
  const text = new TextDecoder().decode(output.stderr) +
    new TextDecoder().decode(output.stdout);
  return text.split("\n").find((line) => line.trim() !== "") ?? "failed";
}

/**
 * Starts Envoy for real on `file` (admin on the port the bootstrap names, 0
 * allowed: its address is read from `--admin-address-path`), reads admin
 * /config_dump once ready and stops it. Resolves with the static listener
 * and cluster sections, or throws with Envoy's first error line.
 */
export async function envoyConfigDump(
  envoy: EnvoyBinary,
  file: string,
  dir: string,
): Promise<{ listener: Json; clusters: string[] }> {
  const addressFile = join(dir, "admin-address");
  const child = new Deno.Command(envoy.path, {
    args: [
      "-c",
      file,
      "--disable-hot-restart",
      "--admin-address-path",
      addressFile,
      "-l",
      "error",
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const log = new Response(child.stderr).text();
  try {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const admin = await Deno.readTextFile(addressFile).catch(() => "");
      if (admin.trim() !== "") {
        const ready = await fetch(`http://${admin.trim()}/ready`).catch(() =>
          undefined
        );
        const live = ready !== undefined && (await ready.text()).trim();
        if (live === "LIVE") {
          const dump = await (await fetch(
            `http://${admin.trim()}/config_dump`,
          )).json() as { configs: Json[] };
          const listeners = dump.configs.find((c) =>
            String(c["@type"]).endsWith("ListenersConfigDump")
          ) as { static_listeners: { listener: Json }[] };
          const clusters = dump.configs.find((c) =>
            String(c["@type"]).endsWith("ClustersConfigDump")
          ) as { static_clusters: { cluster: Json }[] };
          return {
            listener: listeners.static_listeners[0].listener,
            clusters: clusters.static_clusters.map((c) =>
              String(c.cluster.name)
            ),
          };
        }
      }
      const exited = await Promise.race([
        child.status,
        new Promise((done) => setTimeout(() => done(undefined), 50)),
      ]);
      if (exited !== undefined) break;
    }
    throw new Error("Envoy did not become ready");
  } catch (error) {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await child.status;
    const lines = (await log).split("\n").filter((line) =>
      /\[(error|critical)\]/.test(line)
    );
    throw new Error(`${(error as Error).message}: ${lines[0] ?? ""}`);
  } finally {
    try {
      child.kill("SIGTERM");
    } catch { /* exited */ }
    await child.status;
    await log.catch(() => "");
  }
}

/** Reads a bootstrap as Envoy's YAML 1.1 reader would. */
export function readAsEnvoy(text: string): Json {
  return parse(text, { version: "1.1" }) as Json;
}

/** The filter's verdict in the local host: undefined (accepted) or its message. */
export async function filterVerdict(
  config: string,
): Promise<string | undefined> {
  try {
    await ProxyWasmVm.load(embeddedFilter(), {
      rootId: ROOT_ID,
      configuration: config,
    });
    return undefined;
  } catch (error) {
    assert.ok(error instanceof ConfigurationRejectedError, String(error));
    return error.message;
  }
}

export function tsVerdict(config: string): string | undefined {
  try {
    parseFilterConfig(config);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Both parsers refuse `config` with the same single line (or both accept it). */
export async function parsersAgree(
  config: string,
): Promise<string | undefined> {
  const ts = tsVerdict(config);
  const wasm = await filterVerdict(config);
  if (ts === undefined) assert.equal(wasm, undefined, config);
  else {
    assert.ok(!ts.includes("\n"), `two lines: ${JSON.stringify(ts)}`);
    assert.ok(wasm?.endsWith(ts), `${JSON.stringify(wasm)} vs ${ts}`);
  }
  return ts;
}

/** Runs `cases` seeded cases; returns how many were accepted and refused. */
export async function runGeneratorFuzz(
  envoy: EnvoyBinary,
  seed: number,
  cases: number,
  liveEvery: number,
): Promise<{ accepted: number; refused: number; live: number }> {
  const next = random(seed);
  const dir = await Deno.makeTempDir({ prefix: "wasmerang-fuzz-" });
  const counts = { accepted: 0, refused: 0, live: 0 };
  try {
    const wasm = join(dir, "filter.wasm");
    await Deno.writeFile(wasm, embeddedFilter());
    const all: GeneratorCase[] = [];
    for (let i = 0; i < cases; i++) all.push(randomCase(next));
    // Two at a time: the machine is shared.
    for (let i = 0; i < all.length; i += 2) {
      await Promise.all(
        all.slice(i, i + 2).map(async (c, j) => {
          const label = `case ${i + j} (seed ${seed}): ${JSON.stringify(c)}`;
          const outcome = generate(c, wasm);
          if (tsVerdict(c.config) !== undefined) await parsersAgree(c.config);
          if ("refused" in outcome) {
            assert.ok(!outcome.refused.includes("\n"), label);
            counts.refused++;
            return;
          }
          assert.equal(await filterVerdict(c.config), undefined, label);
          checkChain(
            readAsEnvoy(outcome.bootstrap),
            c.config,
            outcome.clusters,
          );
          const file = join(dir, `case${i + j}.yaml`);
          await Deno.writeTextFile(file, outcome.bootstrap);
          assert.equal(await envoyValidates(envoy, file), undefined, label);
          counts.accepted++;
          if (liveEvery > 0 && counts.accepted % liveEvery === 1) {
            const sub = join(dir, `live${i + j}`);
            await Deno.mkdir(sub);
            const live = await envoyConfigDump(envoy, file, sub);
            const filters = (live.listener.filter_chains as {
              filters: {
                name: string;
                typed_config?: { cluster?: string };
              }[];
            }[])[0].filters;
            assert.deepEqual(filters.map((filter) => filter.name), [
              "envoy.filters.network.wasm",
              "envoy.filters.network.tcp_proxy",
            ], label);
            // Envoy lists static clusters in an order of its own: compare the
            // names as sets, and the default (tcp_proxy's cluster) exactly.
            assert.deepEqual(
              [...live.clusters].sort(),
              [...outcome.clusters].sort(),
              label,
            );
            assert.equal(
              filters[1].typed_config?.cluster,
              outcome.clusters[0],
              label,
            );
            counts.live++;
          }
        }),
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return counts;
}
