/**
 * For tests against the real Docker engine: whether an engine, Compose and
 * the Docker example's images are here (testing/docker/setup.sh makes them),
 * and the example's fixed ports are free. Outside CI a missing piece skips the
 * tests with one line; with `CI=true` it fails them: CI sets the engine up.
 *
 * @module
 */
import { runCommand } from "../lib/commands.ts";
import { missingTools } from "../lib/prerequisites.ts";
import { DOCKER_NEEDS } from "../environments/docker/needs.ts";
import {
  ADMIN_PORT,
  BUSYBOX_IMAGE,
  DEFAULT_ENVOY_IMAGE,
  LISTENER_PORT,
} from "../environments/docker/network.ts";
import { isListening } from "./ports.ts";

/** Why the real-engine tests cannot run here, or undefined when they can. */
export async function dockerUnavailable(): Promise<string | undefined> {
  const missing = await missingTools(DOCKER_NEEDS.needs);
  if (missing.length > 0) {
    return `${
      missing.map((tool) => tool.name).join(", ")
    } missing (run testing/docker/setup.sh as root)`;
  }
  for (const image of [DEFAULT_ENVOY_IMAGE, BUSYBOX_IMAGE]) {
    const found = await runCommand(["docker", "image", "inspect", image], {
      timeoutMs: 30_000,
    });
    if (found.code !== 0) {
      return `image ${image} missing (run testing/docker/setup.sh as root)`;
    }
  }
  for (const port of [LISTENER_PORT, ADMIN_PORT]) {
    if (await isListening("127.0.0.1", port)) {
      return `127.0.0.1:${port} is in use here (the Docker example publishes it)`;
    }
  }
  return undefined;
}

/**
 * True when the real-engine tests can run; otherwise registers one ignored
 * test naming why (outside CI), or throws (in CI).
 */
export async function requireDocker(): Promise<boolean> {
  const why = await dockerUnavailable();
  if (why === undefined) return true;
  if (Deno.env.get("CI") === "true") {
    throw new Error(`CI needs the Docker engine for these tests: ${why}`);
  }
  Deno.test({ name: `Docker tests skipped: ${why}`, ignore: true, fn() {} });
  return false;
}
