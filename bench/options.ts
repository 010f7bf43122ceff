/**
 * The benchmark's options and where it runs from.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root folder. */
export const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** How `deno task bench` was asked to run. */
export interface Options {
  count: number;
  rounds: number;
  concurrency: number;
  out: string;
  nginx: boolean;
  haproxy: boolean;
  envoy: boolean;
  /** Whether to count Envoy's instructions per connection under callgrind (bench/instructions.ts). */
  callgrind: boolean;
  /** Keys of the data-plane targets to measure (all when undefined), e.g. `b2,c,h`. */
  targets?: string[];
}

/** The options in words, for `--help`. */
export const USAGE =
  "usage: deno task bench [--count N] [--rounds N] [--concurrency N] [--out PATH] [--no-nginx] [--no-haproxy] [--no-envoy] [--no-callgrind] [--targets a,b,b2,b3,d,d2,c,c2,h,e,en,e0,el,e2,ei]";

/** Reads the command line; throws on an unknown option or a number that is not positive. */
export function parseArgs(args: string[]): Options {
  const options: Options = {
    count: 10_000,
    rounds: 5,
    concurrency: 32,
    out: join(ROOT, "bench", "RESULTS.md"),
    nginx: true,
    haproxy: true,
    envoy: true,
    callgrind: true,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--count") options.count = Number(args[++i]);
    else if (arg === "--rounds") options.rounds = Number(args[++i]);
    else if (arg === "--concurrency") options.concurrency = Number(args[++i]);
    else if (arg === "--out") options.out = args[++i];
    else if (arg === "--no-nginx") options.nginx = false;
    else if (arg === "--no-haproxy") options.haproxy = false;
    else if (arg === "--no-envoy") options.envoy = false;
    else if (arg === "--no-callgrind") options.callgrind = false;
    else if (arg === "--targets") {
      options.targets = (args[++i] ?? "").split(",").filter((key) => key);
    } else throw new Error(`unknown option ${arg} (${USAGE})`);
  }
  if (
    !(options.count > 0) || !(options.concurrency > 0) ||
    !(options.rounds > 0)
  ) {
    throw new Error(
      "--count, --concurrency and --rounds take positive numbers",
    );
  }
  return options;
}
