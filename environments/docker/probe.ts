/**
 * `wasmerang probe docker`: for each source IP, a short-lived busybox
 * container on the compose network, with that address (`docker run --ip`),
 * connects to Envoy's listener and reads the first line: the egress that
 * answered. Results are compared with what the filter itself decides: the
 * folder's module (wasmerang.wasm), with the root id and configuration of its
 * envoy.yaml, run in the project's host (lib/judge.ts).
 */
import { runCommand, shellQuote } from "../../lib/commands.ts";
import { UserError } from "../../lib/errors.ts";
import { requirePrerequisites } from "../../lib/prerequisites.ts";
import { DOCKER_NEEDS } from "./needs.ts";
import {
  judgedResult,
  type ProbeReport,
  probeReport,
  type ProbeResult,
  splitSources,
} from "../../lib/probe_report.ts";
import {
  type Decision,
  judgedFilter,
  judgeSources,
  type ProbeJudge,
} from "../../lib/judge.ts";
import { loadFilter } from "../../lib/filter_module.ts";
import {
  ADMIN_ADDRESS,
  dockerErrorLine,
  envoyReady,
  readDockerExample,
  READY_URL,
} from "./compose.ts";
import { filterCounters } from "../../lib/envoy/admin.ts";
import {
  BUSYBOX_IMAGE,
  DEFAULT_DIR,
  type DockerNetwork,
  LISTENER_PORT,
  NETWORK_NAME,
  PROBE_LABEL,
} from "./network.ts";

/** Options of `wasmerang probe docker`. */
export interface DockerProbeOptions {
  /** The example folder, default `envoy-docker`. */
  dir?: string;
  /** Comma-separated source IPs on the compose network. */
  from?: string;
  /** Print the report as JSON (read by the caller that prints; `probeDocker` ignores it). */
  json?: boolean;
}

/** How long one probe may wait for the banner, in seconds. */
const BANNER_TIMEOUT_S = 5;

/**
 * The shell run inside each probe container: connect, read one line, print
 * it with nanosecond timestamps taken around the connection. A watchdog ends nc
 * if nothing arrives, so the container never outlives the probe.
 */
export function probeScript(
  envoy: string,
  port: number = LISTENER_PORT,
): string {
  return [
    // Nanoseconds now: date's %N where it has one (busybox's image), else the
    // kernel clock through adjtimex in microseconds (Debian's busybox).
    "now() {",
    "  t=$(date +%s%N)",
    '  case "$t" in',
    "    *N) adjtimex | awk '/tv_sec/ {s = $2} /tv_usec/ {u = $2} END {printf \"%d%06d000\\n\", s, u}' ;;",
    '    *) echo "$t" ;;',
    "  esac",
    "}",
    "f=/tmp/banner.$$",
    'mkfifo "$f"',
    "t0=$(now)",
    `nc ${envoy} ${port} </dev/null >"$f" &`,
    "pid=$!",
    `(sleep ${BANNER_TIMEOUT_S}; kill $pid) >/dev/null 2>&1 &`,
    "watchdog=$!",
    'IFS= read -r line <"$f"',
    "t1=$(now)",
    'echo "banner=$line"',
    'echo "t0=$t0"',
    'echo "t1=$t1"',
    "kill $pid $watchdog 2>/dev/null",
    'rm -f "$f"',
    "exit 0",
  ].join("\n");
}

/** The `docker run` command of one probe. */
export function probeCommand(source: string, envoy: string): string[] {
  return [
    "docker",
    "run",
    "--rm",
    "--label",
    `${PROBE_LABEL}=1`,
    "--network",
    NETWORK_NAME,
    "--ip",
    source,
    BUSYBOX_IMAGE,
    "sh",
    "-c",
    probeScript(envoy),
  ];
}

/** Checks `--from` against the network: IPv4, inside the subnet, not taken. */
export function parseSources(
  from: string | undefined,
  network: DockerNetwork,
): string[] {
  if (from === undefined) return network.probeSources;
  const sources = splitSources(from);
  for (const source of sources) {
    if (!network.contains(source)) {
      throw new UserError(
        `--from ${source}: not an IPv4 address in the compose network ${network.subnet} ` +
          `(try ${network.probeSources.join(",")})`,
        2,
      );
    }
    if (network.reserved.includes(source)) {
      throw new UserError(
        `--from ${source}: that address is taken (the gateway, Envoy or an egress service)`,
        2,
      );
    }
  }
  if (new Set(sources).size !== sources.length) {
    throw new UserError("--from lists an address twice", 2);
  }
  return sources;
}

/**
 * Reads one probe container's output into a result, judged by the filter's
 * `decision` (a connection it leaves alone expects `defaultCluster`).
 */
export function parseProbeOutput(
  source: string,
  decision: Decision,
  defaultCluster: string,
  output: { code: number; stdout: string; stderr: string },
): ProbeResult {
  const field = (name: string) =>
    output.stdout.match(new RegExp(`^${name}=(.*)$`, "m"))?.[1]?.trim();
  const banner = field("banner");
  const t0 = field("t0"), t1 = field("t1");
  // Timed inside the container around the connection; a `date` without %N
  // cannot, and the docker run's own time would be mostly container start-up.
  const ms = t0 && t1 && /^\d{12,}$/.test(t0) && /^\d{12,}$/.test(t1)
    ? Number(BigInt(t1) - BigInt(t0)) / 1e6
    : null;
  const got = banner ? banner : null;
  const error = got === null
    ? (dockerErrorLine(output.stderr) ??
      (output.code !== 0
        ? `docker run exited with ${output.code}`
        : "connection closed without a banner"))
    : undefined;
  return judgedResult(source, decision, defaultCluster, {
    got,
    ms,
    ...(error ? { error } : {}),
  });
}

/** Runs `probe docker` and returns the report (the caller prints it). */
export async function probeDocker(
  options: DockerProbeOptions,
): Promise<ProbeReport> {
  const dir = options.dir ?? DEFAULT_DIR;
  const example = await readDockerExample(dir);
  const sources = parseSources(options.from, example.network);
  // Without Docker nothing can be running: the same exit 2 as "Envoy is not ready".
  await requirePrerequisites(DOCKER_NEEDS, { exitCode: 2 });
  const ready = await envoyReady(3000);
  if (!ready) {
    throw new UserError(
      `Envoy is not ready at ${READY_URL}: start it with 'wasmerang up docker${
        dir === DEFAULT_DIR ? "" : ` --dir ${dir}`
      }'`,
      2,
    );
  }
  const destination = `${example.envoyAddress}:${LISTENER_PORT}`;
  const judge: ProbeJudge = {
    wasm: await loadFilter(example.wasmFile),
    rootId: example.rootId,
    configuration: example.filterConfiguration,
    defaultCluster: example.defaultCluster,
    module: example.wasmFile,
  };
  const decisions = await judgeSources(judge, sources, destination);
  const results: ProbeResult[] = [];
  const concurrency = 4;
  for (let index = 0; index < sources.length; index += concurrency) {
    const batch = sources.slice(index, index + concurrency);
    results.push(
      ...await Promise.all(batch.map(async (source) => {
        const argv = probeCommand(source, example.envoyAddress);
        const output = await runCommand(argv, { timeoutMs: 120_000 });
        return parseProbeOutput(
          source,
          decisions.get(source)!,
          judge.defaultCluster,
          output,
        );
      })),
    );
  }
  const report = probeReport(
    `docker: Envoy ${destination} on ${NETWORK_NAME}`,
    results,
    judgedFilter(judge),
  );
  try {
    report.counters = await filterCounters(ADMIN_ADDRESS);
  } catch {
    report.countersUnavailable =
      `Envoy's admin does not answer at http://${ADMIN_ADDRESS}/stats`;
  }
  return report;
}

/** The probe's `docker run` for one source, for documentation and dry runs. */
export function describeProbe(source: string, envoy: string): string {
  return shellQuote(probeCommand(source, envoy));
}
