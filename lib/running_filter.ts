/**
 * The filter as an input: which module, root id and configuration an example
 * runs (`up local|envoy --wasm --root-id --config`), as its state file
 * records them, and the same three read back by `probe`, which judges by
 * them (lib/judge.ts).
 *
 * @module
 */
import { resolve } from "node:path";
import { UsageError, UserError } from "./errors.ts";
import { loadFilter } from "./filter_module.ts";
import { loadShippableFilter, requireShippable } from "./module_check.ts";
import { withChosenModule } from "./filter_input.ts";
import { EMBEDDED_MODULE, moduleSha256, type ProbeJudge } from "./judge.ts";
import {
  DEFAULT_CONFIG,
  isUsableName,
  parseFilterConfig,
  quoteText,
  ROOT_ID,
} from "./routing.ts";
import type { LocalState } from "./state.ts";

/** The filter options of `up`, `probe` and `route`. */
export interface FilterFlags {
  /** A built module (default: the embedded filter). */
  wasm?: string;
  /** A filter project folder, built when stale (instead of `wasm`; lib/filter_input.ts). */
  filter?: string;
  /** The root id (default: the project's, else `wasmerang`). */
  rootId?: string;
  /** A dry run's stale project, compiled in memory: the module to check instead of the file at `wasm`. */
  compiled?: Uint8Array<ArrayBuffer>;
  /** The plugin configuration. */
  config?: string;
}

/** A filter an example runs. */
export interface RunningFilter {
  /** The module's bytes. */
  wasm: Uint8Array<ArrayBuffer>;
  /** Its absolute path, or undefined for the embedded filter. */
  path?: string;
  /** Its sha256, hex. */
  sha256: string;
  /** The root id it runs under. */
  rootId: string;
  /** Its configuration. */
  configuration: string;
}

/**
 * The module `up` runs, checked as Envoy would start it (root id and
 * configuration included): a one-line UserError when it would not start.
 * `--filter` is built first when stale (lib/filter_input.ts); a `--wasm`
 * that is a project's output runs under that project's root id unless
 * `--root-id` says.
 */
export async function filterToRun(
  flags: FilterFlags,
  defaultConfig: string,
): Promise<RunningFilter> {
  const chosen = flags.compiled === undefined
    ? await withChosenModule(flags)
    : flags;
  const configuration = flags.config ?? defaultConfig;
  const rootId = checkedRootId(chosen.rootId);
  const wasm = chosen.compiled ??
    await loadShippableFilter(chosen.wasm, configuration, rootId);
  if (chosen.compiled !== undefined) {
    await requireShippable(
      wasm,
      chosen.wasm ?? EMBEDDED_MODULE,
      configuration,
      rootId,
    );
  }
  return {
    wasm,
    ...(chosen.wasm === undefined ? {} : { path: resolve(chosen.wasm) }),
    sha256: moduleSha256(wasm),
    rootId,
    configuration,
  };
}

/**
 * `--root-id`, checked: not empty, no control characters (as a cluster
 * name); default `wasmerang`.
 */
export function checkedRootId(rootId: string | undefined): string {
  if (rootId === undefined) return ROOT_ID;
  if (!isUsableName(rootId)) {
    throw new UsageError(
      `--root-id ${
        quoteText(rootId)
      }: a root id must be non-empty, without control characters or unpaired surrogates`,
    );
  }
  return rootId;
}

/** What a state file records of the filter. */
export function recordedFilter(
  filter: RunningFilter,
): Pick<LocalState, "wasm" | "wasmSha256" | "rootId" | "config"> {
  return {
    ...(filter.path === undefined ? {} : { wasm: filter.path }),
    wasmSha256: filter.sha256,
    rootId: filter.rootId,
    config: filter.configuration,
  };
}

/** One line naming the filter: module, sha256, root id, configuration. */
export function describeFilter(
  filter: { path?: string; sha256: string; rootId: string },
  configuration: string,
): string {
  return `filter  ${filter.path ?? EMBEDDED_MODULE} (sha256 ${
    filter.sha256.slice(0, 12)
  }…), root id ${filter.rootId}, configuration ${
    JSON.stringify(configuration)
  }`;
}

/**
 * The lines `up <mode> --detach` prints about the example it started: `rows`
 * (what listens where), then each egress (the default cluster marked), the
 * filter and the log file, names aligned.
 */
export function detachedSummary(
  state: LocalState,
  rows: readonly [string, string][],
): string[] {
  const width = Math.max(
    7,
    ...Object.keys(state.egress).map((name) => name.length),
  );
  return [
    ...rows.map(([name, value]) => `${name.padEnd(width)} ${value}`),
    ...Object.entries(state.egress).map(([name, address]) =>
      `${name.padEnd(width)} ${address}${
        name === state.defaultCluster ? "  (default cluster)" : ""
      }`
    ),
    describeFilter({
      path: state.wasm,
      sha256: state.wasmSha256 ?? "",
      rootId: state.rootId ?? ROOT_ID,
    }, state.config),
    `${"log".padEnd(width)} ${state.logFile}`,
  ];
}

/** The probe's filter options: those of {@link FilterFlags} and the default cluster. */
export interface JudgeFlags extends FilterFlags {
  /** The cluster a connection the filter leaves alone goes to. */
  defaultCluster?: string;
}

/**
 * The filter a probe judges by: the flags first (`--filter` built when
 * stale; a note on stderr when the module is not the one the running example
 * started with), then what the running example recorded, then the embedded filter with `defaultConfig`. A
 * recorded module that changed on disk since the example started is a
 * one-line error (exit 2): the probe would judge by another module.
 */
export async function filterToJudge(
  given: JudgeFlags,
  state: LocalState | undefined,
  defaultConfig: string,
): Promise<ProbeJudge> {
  const flags = await withChosenModule(given);
  const configuration = flags.config ?? state?.config ?? defaultConfig;
  const path = flags.wasm ?? state?.wasm;
  const wasm = await loadFilter(path);
  if (
    flags.wasm === undefined && state?.wasmSha256 !== undefined &&
    moduleSha256(wasm) !== state.wasmSha256
  ) {
    throw new UserError(
      `${
        path ?? EMBEDDED_MODULE
      } is not the module the running example started with (sha256 ${
        state.wasmSha256.slice(0, 12)
      }…, now ${
        moduleSha256(wasm).slice(0, 12)
      }…): restart the example, or name the module to judge by with --wasm`,
      2,
    );
  }
  const judge: ProbeJudge = {
    wasm,
    rootId: flags.rootId === undefined
      ? state?.rootId ?? ROOT_ID
      : checkedRootId(flags.rootId),
    configuration,
    defaultCluster: flags.defaultCluster ?? state?.defaultCluster ??
      (state === undefined ? undefined : Object.keys(state.egress)[0]) ??
      parityDefault(configuration),
    module: path ?? EMBEDDED_MODULE,
  };
  if (
    flags.wasm !== undefined && state?.wasmSha256 !== undefined &&
    moduleSha256(wasm) !== state.wasmSha256
  ) {
    console.error(
      `note: judging by ${flags.wasm} (sha256 ${
        moduleSha256(wasm).slice(0, 12)
      }…), not the module the running example started with (sha256 ${
        state.wasmSha256.slice(0, 12)
      }…)`,
    );
  }
  return judge;
}

/** The parity filter's default cluster for a configuration (its first), else `egress1`. */
function parityDefault(configuration: string): string {
  try {
    return parseFilterConfig(configuration).clusters[0];
  } catch {
    return DEFAULT_CONFIG.clusters[0];
  }
}
