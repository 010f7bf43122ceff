/**
 * Checks Envoy makes when it loads a wasm plugin, run on the messages as the
 * walk meets them: the VM runtime must be one Envoy knows (its official
 * images ship V8), and the flagship filter's configuration (root id ROOT_ID)
 * must parse the way the filter parses it.
 *
 * @module
 */
import { parseFilterConfig, ROOT_ID } from "../lib/routing.ts";
import type { IssueLog, Segment } from "./issues.ts";
import { anyTypeName, valueAt } from "./json_values.ts";
import type { GivenFields } from "./presence.ts";

const WASM_RUNTIMES = [
  "envoy.wasm.runtime.v8",
  "envoy.wasm.runtime.wamr",
  "envoy.wasm.runtime.wasmtime",
  "envoy.wasm.runtime.wavm",
  "envoy.wasm.runtime.null",
];

/** Runs the wasm checks that apply to a message of `type` (none for most). */
export function checkWasmMessage(
  log: IssueLog,
  type: string,
  value: Record<string, unknown>,
  given: GivenFields,
  at: Segment[],
): void {
  if (type === "envoy.extensions.wasm.v3.VmConfig") {
    checkRuntime(log, value, given, at);
  }
  if (type === "envoy.extensions.wasm.v3.PluginConfig") {
    checkFlagshipConfiguration(log, value, given, at);
  }
}

/** The key a field was given under, if it was. */
function keyOf(given: GivenFields, name: string): string | undefined {
  return [...given.entries()].find(([field]) => field.name === name)?.[1];
}

/** Envoy refuses a runtime it was not built with; the official images have V8. */
function checkRuntime(
  log: IssueLog,
  value: Record<string, unknown>,
  given: GivenFields,
  at: Segment[],
): void {
  const key = keyOf(given, "runtime");
  const runtime = key === undefined ? undefined : value[key];
  if (typeof runtime !== "string") return;
  if (!WASM_RUNTIMES.includes(runtime)) {
    log.error(
      [...at, key!],
      `unknown Wasm runtime "${runtime}" (Envoy knows ${
        WASM_RUNTIMES.join(", ")
      }; its official images ship ` +
        `envoy.wasm.runtime.v8)`,
    );
  } else if (runtime !== "envoy.wasm.runtime.v8") {
    log.warn(
      [...at, key!],
      `the official Envoy images ship only envoy.wasm.runtime.v8, not ${runtime}`,
    );
  }
}

/** The flagship filter's configuration (root id ROOT_ID) must parse the way the filter parses it. */
function checkFlagshipConfiguration(
  log: IssueLog,
  value: Record<string, unknown>,
  given: GivenFields,
  at: Segment[],
): void {
  const rootKey = keyOf(given, "root_id");
  const configurationKey = keyOf(given, "configuration");
  if (
    rootKey === undefined || value[rootKey] !== ROOT_ID ||
    configurationKey === undefined
  ) return;
  const configuration = value[configurationKey];
  if (anyTypeName(configuration) !== "google.protobuf.StringValue") return;
  const text = valueAt(configuration, "value");
  if (typeof text !== "string") return;
  try {
    parseFilterConfig(text);
  } catch (error) {
    log.error([...at, configurationKey, "value"], (error as Error).message);
  }
}
