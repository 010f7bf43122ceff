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

/** Connects from `source` and resolves with the first line the egress sends, or null. */
export async function bannerFrom(
  target: HostPort,
  source: string,
  timeoutMs = 5000,
): Promise<string | null> {
  return (await readBanner(source, target, timeoutMs)).banner;
}

/** Runs `work` over `items` with at most `concurrency` at a time, results in order. */
export async function pool<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]);
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
