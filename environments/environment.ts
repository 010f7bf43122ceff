/**
 * The shape every environment (local, envoy, docker, istio) has: what it
 * needs, its files where it has some, and the three verbs `up`, `probe`,
 * `down`. The `tasks/` commands find an environment by name in
 * `environments/mod.ts` and call one of these.
 *
 * @module
 */
import type { ToolName } from "../lib/prerequisites.ts";
import type { ProbeReport } from "../lib/probe_report.ts";

/** One environment the tool can launch; `Options` is what each verb accepts. */
export interface Environment<
  UpOptions = never,
  ProbeOptions = never,
  DownOptions = never,
  ScaffoldOptions = never,
> {
  /** The name the commands take (`up <name>`). */
  readonly name: string;
  /** The external tools it needs (`doctor <name>` checks them). */
  readonly needs: readonly ToolName[];
  /** Writes the example files `up` launches, for environments that have files. */
  readonly scaffold?: (options: ScaffoldOptions) => Promise<void>;
  /** Launches the example. */
  readonly up: (options: UpOptions) => Promise<void>;
  /** Connects from chosen sources and reports who answered. */
  readonly probe: (options: ProbeOptions) => Promise<ProbeReport>;
  /** Tears the example down, leaving nothing behind. */
  readonly down: (options: DownOptions) => Promise<void>;
}
