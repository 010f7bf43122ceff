/**
 * For tests against a real Envoy: the binary (found as `up envoy` finds it),
 * or a one-line skip notice when there is none. With `CI=true` a missing
 * Envoy fails instead: CI installs it.
 *
 * @module
 */
import { type EnvoyBinary, requireEnvoy } from "../lib/envoy/binary.ts";
import type { HostPort } from "../lib/address.ts";
import { readBanner } from "../lib/loopback_probe.ts";
import { embeddedFilter } from "../lib/filter_module.ts";
import {
  type EnvoyPlane,
  type EnvoyPlaneOptions,
  startEnvoyPlane,
} from "../environments/envoy/plane.ts";

let found: Promise<EnvoyBinary | undefined> | undefined;

/** The Envoy to test with, or undefined (after one notice) when there is none outside CI. */
export function testEnvoy(): Promise<EnvoyBinary | undefined> {
  found ??= requireEnvoy().catch((error) => {
    if (Deno.env.get("CI") === "true") {
      throw new Error(`CI needs Envoy for these tests: ${error.message}`);
    }
    // `deno test --quiet` hides console output, not the names of ignored
    // tests: the notice is one.
    Deno.test({
      name: `Envoy tests skipped: ${error.message}`,
      ignore: true,
      fn() {},
    });
    return undefined;
  });
  return found;
}

/**
 * `count` distinct random loopback sources 127.x.y.z (z from 1 to 254); from
 * two on, they always cover both parities (the i-th source's last octet has
 * the parity of i).
 */
export function randomSources(count: number): string[] {
  const sources = new Set<string>();
  while (sources.size < count) {
    const byte = (low: number, high: number) =>
      low + Math.floor(Math.random() * (high - low + 1));
    const last = byte(1, 127) * 2 - (sources.size % 2 === 0 ? 0 : 1);
    sources.add(`127.${byte(0, 255)}.${byte(0, 255)}.${last}`);
  }
  return [...sources];
}

const ANY: HostPort = { host: "127.0.0.1", port: 0 };

/**
 * An Envoy plane for a test: the test Envoy, free loopback ports, the
 * embedded filter, two workers; `options` add to or override these.
 */
export async function startTestPlane(
  options: Partial<EnvoyPlaneOptions> & { config: string },
): Promise<EnvoyPlane> {
  return await startEnvoyPlane({
    envoy: (await testEnvoy())!,
    listen: ANY,
    admin: ANY,
    egress: [ANY, ANY],
    wasm: embeddedFilter(),
    concurrency: 2,
    ...options,
  });
}

/** Connects from `source` and resolves with the first line the egress sends, or null. */
export async function bannerFrom(
  target: HostPort,
  source: string,
  timeoutMs = 5000,
): Promise<string | null> {
  return (await readBanner(source, target, timeoutMs)).banner;
}

/**
 * The banner each of `sources` gets from `target` (null when none), in order,
 * with at most `concurrency` connections open at a time.
 */
export async function bannersFrom(
  target: HostPort,
  sources: readonly string[],
  concurrency = 20,
  timeoutMs = 5000,
): Promise<(string | null)[]> {
  const results: (string | null)[] = new Array(sources.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, sources.length) }, async () => {
      while (next < sources.length) {
        const index = next++;
        results[index] = await bannerFrom(target, sources[index], timeoutMs);
      }
    }),
  );
  return results;
}

/** Envoy processes whose command line mentions `text` (to prove none is left). */
export function envoyProcessesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`);
      if (cmdline.includes("envoy") && cmdline.includes(text)) {
        pids.push(Number(entry.name));
      }
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}
