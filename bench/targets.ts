/**
 * The data-plane benchmark's targets: `up local`, the proxy alone and its
 * floors (bench/proxy_only.ts), nginx and Envoy, each started in its own
 * process against the egress servers of `up local`, with what each target
 * should answer.
 *
 * @module
 */
import { join } from "node:path";
import type { HostPort } from "../lib/address.ts";
import { findEnvoy } from "../lib/envoy/binary.ts";
import { decideCluster, DEFAULT_CONFIG } from "../lib/routing.ts";
import { startEnvoyTarget } from "./envoy.ts";
import { ensureNginx, type NginxInstall, startNginx } from "./nginx.ts";
import { type Options, ROOT } from "./options.ts";
import { freePorts, spawnLogged, waitAccepts } from "./processes.ts";

/** One target to measure, and the egress each source should reach through it. */
export interface Target {
  key: string;
  label: string;
  target: HostPort;
  expect: (source: string) => string;
  /** The proxy's process, for its CPU time. */
  pid?: number;
}

/** The targets that started, and why any were left out. */
export interface StartedTargets {
  plan: Target[];
  nginx?: NginxInstall;
  nginxNote?: string;
  envoyNote?: string;
}

/**
 * Starts every target in `work` (logs there); each one's stop goes into
 * `stops`, also when a later one fails to start.
 */
export async function startTargets(
  options: Options,
  work: string,
  stops: (() => Promise<void>)[],
  log: (line: string) => void,
): Promise<StartedTargets> {
  const [
    listen,
    egress1,
    egress2,
    proxyOnly,
    emptyProxy,
    barePipe,
    nginx1,
    nginxAuto,
    envoyBare,
    envoyBareAdmin,
    envoyFilter,
    envoyFilterAdmin,
  ] = await freePorts(12);
  const at = (port: number): HostPort => ({ host: "127.0.0.1", port });
  const text = (port: number) => `127.0.0.1:${port}`;
  const parity = (source: string) =>
    decideCluster(`${source}:1`, "127.0.0.1:1", DEFAULT_CONFIG) ?? "egress1";
  let nginx: NginxInstall | undefined;
  let nginxNote: string | undefined;
  let envoyNote: string | undefined;
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
  // The proxy alone, then its floors: an empty module, and a bare pipe.
  for (
    const [port, name, variant] of [
      [proxyOnly, "proxy-only", []],
      [emptyProxy, "proxy--empty-filter", ["--empty-filter"]],
      [barePipe, "proxy--bare", ["--bare"]],
    ] as const
  ) {
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
  }
  await waitAccepts(at(listen), "up local");
  await waitAccepts(at(proxyOnly), "the proxy-only process");
  await waitAccepts(at(emptyProxy), "the proxy with an empty filter");
  await waitAccepts(at(barePipe), "the bare pipe");
  const plan: Target[] = [
    {
      key: "a",
      label: "(a) direct to an egress server",
      target: at(egress1),
      expect: () => "egress1",
    },
    {
      key: "b",
      label:
        "(b) through `wasmerang up local` (proxy, and its egress servers on their own threads, one process)",
      target: at(listen),
      expect: parity,
    },
    {
      key: "b2",
      label: "(b′) the same proxy alone in its own process",
      target: at(proxyOnly),
      expect: parity,
    },
    {
      key: "b3",
      label:
        "(b″) floor: that proxy with an empty proxy-wasm module (no filter logic; all to egress1)",
      target: at(emptyProxy),
      expect: () => "egress1",
    },
    {
      key: "d",
      label:
        "(d) floor: a bare node:net pipe in Deno, parity decided in TypeScript, no wasm, no log",
      target: at(barePipe),
      expect: parity,
    },
  ];

  if (!options.nginx) {
    nginxNote = "nginx was not measured (--no-nginx).";
  } else {
    const found = await ensureNginx();
    if (typeof found === "string") {
      nginxNote = found;
      log(`  nginx: ${found}`);
    } else {
      nginx = found;
      for (
        const [workers, port] of [[1, nginx1], ["auto", nginxAuto]] as const
      ) {
        const running = await startNginx(found, {
          listen: at(port),
          egress: [at(egress1), at(egress2)],
          workers,
        });
        stops.push(running.stop);
        plan.push({
          key: workers === 1 ? "c" : "c2",
          label: `(c${
            workers === 1 ? "" : "′"
          }) nginx stream, \`map $remote_addr\`, worker_processes ${workers}`,
          target: at(port),
          expect: parity,
        });
      }
    }
  }

  if (!options.envoy) {
    envoyNote = "Envoy was not measured (--no-envoy).";
  } else {
    try {
      const envoy = await findEnvoy();
      log(`  envoy: ${envoy.version} (${envoy.path})`);
      for (
        const [filter, port, admin] of [
          [false, envoyBare, envoyBareAdmin],
          [true, envoyFilter, envoyFilterAdmin],
        ] as const
      ) {
        const running = await startEnvoyTarget({
          envoy,
          listen: at(port),
          admin: at(admin),
          egress: [at(egress1), at(egress2)],
          filter,
          work,
        });
        stops.push(running.stop);
        plan.push(
          filter
            ? {
              key: "e2",
              label:
                `(e′) Envoy ${envoy.version}, one worker, the wasm filter (V8) then tcp_proxy`,
              target: at(port),
              expect: parity,
              pid: running.pid,
            }
            : {
              key: "e",
              label:
                `(e) Envoy ${envoy.version}, one worker, tcp_proxy alone (all to egress1)`,
              target: at(port),
              expect: () => "egress1",
              pid: running.pid,
            },
        );
      }
    } catch (error) {
      envoyNote = `Envoy was not measured: ${(error as Error).message}`;
      log(`  ${envoyNote}`);
    }
  }
  return { plan, nginx, nginxNote, envoyNote };
}
