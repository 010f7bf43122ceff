/**
 * The data-plane benchmark's targets: `up local`, the proxy alone and its
 * floors (bench/proxy_only.ts), nginx, HAProxy and Envoy, each started in its
 * own process against the egress servers of `up local`, with what each
 * target should answer and the process whose CPU time is its cost.
 *
 * @module
 */
import { join } from "node:path";
import type { HostPort } from "../lib/address.ts";
import { findEnvoy } from "../lib/envoy/binary.ts";
import { decideCluster, DEFAULT_CONFIG } from "../lib/routing.ts";
import {
  ENVOY_VARIANTS,
  type EnvoyVariant,
  routesByParity,
  startEnvoyTarget,
  VARIANT_TEXT,
} from "./envoy.ts";
import { ensureHaproxy, type HaproxyInstall, startHaproxy } from "./haproxy.ts";
import { ensureNginx, type NginxInstall, startNginx } from "./nginx.ts";
import { type Options, ROOT } from "./options.ts";
import { freePorts, spawnLogged, waitAccepts } from "./processes.ts";

/** The data-plane key of each Envoy variant (`--targets`). */
export const ENVOY_KEYS: Record<EnvoyVariant, string> = {
  none: "e",
  native: "en",
  noop: "e0",
  lean: "el",
  standalone: "e2",
  istio: "ei",
};

/** One target to measure, and the egress each source should reach through it. */
export interface Target {
  key: string;
  label: string;
  target: HostPort;
  expect: (source: string) => string;
  /** The proxy's process (with its children, for nginx's workers), for its CPU time. */
  pid?: number;
}

/** The targets that started, and why any were left out. */
export interface StartedTargets {
  plan: Target[];
  nginx?: NginxInstall;
  nginxNote?: string;
  haproxy?: HaproxyInstall;
  haproxyNote?: string;
  envoyNote?: string;
}

/**
 * Starts every target asked for in `work` (logs there); each one's stop goes
 * into `stops`, also when a later one fails to start. `up local` always
 * starts: its egress servers are every target's.
 */
export async function startTargets(
  options: Options,
  work: string,
  stops: (() => Promise<void>)[],
  log: (line: string) => void,
): Promise<StartedTargets> {
  const wanted = (...keys: string[]) =>
    options.targets === undefined ||
    keys.some((key) => options.targets!.includes(key));
  const [listen, egress1, egress2, ...ports] = await freePorts(22);
  const at = (port: number): HostPort => ({ host: "127.0.0.1", port });
  const text = (port: number) => `127.0.0.1:${port}`;
  const parity = (source: string) =>
    decideCluster(`${source}:1`, "127.0.0.1:1", DEFAULT_CONFIG) ?? "egress1";
  const started: StartedTargets = { plan: [] };
  const plan = started.plan;
  const up = spawnLogged(
    [
      "run",
      "-A",
      join(ROOT, "cli.ts"),
      "up",
      "local",
      "--listen",
      text(listen),
      "--egress1",
      text(egress1),
      "--egress2",
      text(egress2),
    ],
    join(work, "up-local.log"),
  );
  stops.push(up.stop);
  await waitAccepts(at(listen), "up local");
  if (wanted("a")) {
    plan.push({
      key: "a",
      label: "(a) direct to an egress server",
      target: at(egress1),
      expect: () => "egress1",
    });
  }
  if (wanted("b")) {
    plan.push({
      key: "b",
      label:
        "(b) through `wasmerang up local` (proxy, and its egress servers on their own threads, one process: CPU includes the egress servers)",
      target: at(listen),
      expect: parity,
      pid: up.pid,
    });
  }
  // The proxy alone, then its floors: an empty module, and bare pipes.
  for (
    const [key, name, variant, label, expect] of [
      [
        "b2",
        "proxy-only",
        [],
        "(b′) the same proxy alone in its own process (the one to compare with nginx and HAProxy)",
        parity,
      ],
      [
        "b3",
        "proxy--empty-filter",
        ["--empty-filter"],
        "(b″) floor: that proxy with an empty proxy-wasm module (no filter logic; all to egress1)",
        () => "egress1",
      ],
      [
        "d",
        "proxy--bare",
        ["--bare"],
        "(d) floor: a bare `node:net` pipe in Deno, parity decided in TypeScript, no wasm, no log",
        parity,
      ],
      [
        "d2",
        "proxy--bare-deno",
        ["--bare-deno"],
        "(d′) floor: a bare `Deno.listen`/`Deno.connect` pipe with pooled buffers, parity in TypeScript, no wasm, no log",
        parity,
      ],
    ] as const
  ) {
    if (!wanted(key)) continue;
    const port = ports.pop()!;
    const proxy = spawnLogged(
      [
        "run",
        "-A",
        join(ROOT, "bench", "proxy_only.ts"),
        text(port),
        text(egress1),
        text(egress2),
        join(work, `${name}-access.log`),
        ...variant,
      ],
      join(work, `${name}.log`),
    );
    stops.push(proxy.stop);
    await waitAccepts(at(port), name);
    plan.push({ key, label, target: at(port), expect, pid: proxy.pid });
  }

  const egress: [HostPort, HostPort] = [at(egress1), at(egress2)];
  if (!options.nginx) {
    started.nginxNote = "nginx was not measured (--no-nginx).";
  } else if (wanted("c", "c2")) {
    const found = await ensureNginx();
    if (typeof found === "string") {
      started.nginxNote = found;
      log(`  nginx: ${found}`);
    } else {
      started.nginx = found;
      for (const workers of [1, "auto"] as const) {
        const key = workers === 1 ? "c" : "c2";
        if (!wanted(key)) continue;
        const port = ports.pop()!;
        const running = await startNginx(found, {
          listen: at(port),
          egress,
          workers,
        });
        stops.push(running.stop);
        plan.push({
          key,
          label: `(c${
            workers === 1 ? "" : "′"
          }) nginx stream, \`map $remote_addr\`, worker_processes ${workers} (CPU: master and workers)`,
          target: at(port),
          expect: parity,
          pid: running.pid,
        });
      }
    }
  }

  if (!options.haproxy) {
    started.haproxyNote = "HAProxy was not measured (--no-haproxy).";
  } else if (wanted("h")) {
    const found = await ensureHaproxy();
    if (typeof found === "string") {
      started.haproxyNote = found;
      log(`  haproxy: ${found}`);
    } else {
      started.haproxy = found;
      const port = ports.pop()!;
      const running = await startHaproxy(
        found,
        { listen: at(port), egress },
        work,
      );
      stops.push(running.stop);
      plan.push({
        key: "h",
        label:
          `(h) HAProxy ${found.version}, tcp mode, \`acl even_src src -m reg [02468]$\`, nbthread 1`,
        target: at(port),
        expect: parity,
        pid: running.pid,
      });
    }
  }

  if (!options.envoy) {
    started.envoyNote = "Envoy was not measured (--no-envoy).";
  } else if (wanted(...Object.values(ENVOY_KEYS))) {
    try {
      const envoy = await findEnvoy();
      log(`  envoy: ${envoy.version} (${envoy.path})`);
      for (const variant of ENVOY_VARIANTS) {
        const key = ENVOY_KEYS[variant];
        if (!wanted(key)) continue;
        const [port, admin] = [ports.pop()!, ports.pop()!];
        const running = await startEnvoyTarget({
          envoy,
          listen: at(port),
          admin: at(admin),
          egress,
          variant,
          work,
        });
        stops.push(running.stop);
        plan.push({
          key,
          label: `(${key}) Envoy ${envoy.version}, one worker, ${
            VARIANT_TEXT[variant]
          }`,
          target: at(port),
          expect: routesByParity(variant) ? parity : () => "egress1",
          pid: running.pid,
        });
      }
    } catch (error) {
      started.envoyNote = `Envoy was not measured: ${(error as Error).message}`;
      log(`  ${started.envoyNote}`);
    }
  }
  return started;
}
