/**
 * Envoy's admin interface, the one client every mode uses: `/ready` and
 * `/stats`. Envoy's admin answers HTTP/1.0 with `426 Upgrade Required`, so
 * this speaks HTTP/1.1 through `fetch`.
 *
 * @module
 */

/** Envoy's prefix for the custom metrics a Wasm filter defines (measured in 1.40). */
export const CUSTOM_STAT_PREFIX = "wasmcustom.";

/** `http://host:port` of an admin address given as `host:port` (IPv6 in brackets). */
function adminUrl(admin: string, path: string): string {
  return `http://${admin}${path}`;
}

/** Whether Envoy's admin at `admin` (`host:port`) answers `/ready` with 200 within `timeoutMs`. */
export async function adminReady(
  admin: string,
  timeoutMs = 2000,
): Promise<boolean> {
  try {
    const response = await fetch(adminUrl(admin, "/ready"), {
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

/** Reads admin `/stats` as JSON: every stat whose name matches the regular expression `filter`. */
export async function adminStats(
  admin: string,
  filter: string,
  timeoutMs = 5000,
): Promise<Record<string, number>> {
  const url = adminUrl(
    admin,
    `/stats?format=json&filter=${encodeURIComponent(filter)}`,
  );
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`${url} answered ${response.status}`);
  }
  const body = await response.json() as {
    stats: { name: string; value?: number }[];
  };
  return Object.fromEntries(
    body.stats.filter((stat) => typeof stat.value === "number").map((
      stat,
    ) => [stat.name, stat.value!]),
  );
}

/** The filter's counters from admin `/stats`, without Envoy's custom-stat prefix. */
export async function filterCounters(
  admin: string,
): Promise<Record<string, number>> {
  const stats = await adminStats(admin, `^${CUSTOM_STAT_PREFIX}`);
  return Object.fromEntries(
    Object.entries(stats).map((
      [name, value],
    ) => [name.slice(CUSTOM_STAT_PREFIX.length), value]),
  );
}
