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
  /** The flags of each verb (its `options.ts`, which cli.ts reads). */
  readonly options: EnvironmentOptions;
  /** Writes the example files `up` launches, for environments that have files. */
  readonly scaffold?: (options: ScaffoldOptions) => Promise<void>;
  /** Launches the example. */
  readonly up: (options: UpOptions) => Promise<void>;
  /** Connects from chosen sources and reports who answered. */
  readonly probe: (options: ProbeOptions) => Promise<ProbeReport>;
  /** Tears the example down, leaving nothing behind. */
  readonly down: (options: DownOptions) => Promise<void>;
}

/**
 * One flag of one verb of an environment, as the CLI declares it: the
 * environment owns it, cli.ts only turns it into a commander option.
 */
export interface OptionDeclaration {
  /** Commander's flags: `--listen <host:port>`, or `--dry-run` for a switch. */
  readonly flags: string;
  /** What it does, without its default. */
  readonly description: string;
  /**
   * The default as help shows it, taken from the module's own constant. Help
   * only: the module applies its default itself, so an option left out stays
   * `undefined` (a given flag and a default one differ, e.g. for `--cluster`).
   */
  readonly default?: string;
  /** Parses and checks the value; a value that does not parse is a usage error. */
  parse?(value: string, previous?: unknown): unknown;
  /** Left out of help (the background process's marker). */
  readonly hidden?: boolean;
}

/** The flags each verb of an environment takes; a flag not listed is a usage error. */
export interface EnvironmentOptions {
  /** One line for help: what the mode runs. */
  readonly summary: string;
  /** `up <mode>`. */
  readonly up: readonly OptionDeclaration[];
  /** `probe <mode>` (the `probe` command adds `--json` for every mode). */
  readonly probe: readonly OptionDeclaration[];
  /** `down <mode>`. */
  readonly down: readonly OptionDeclaration[];
  /** `scaffold <mode>`, for environments that have files. */
  readonly scaffold?: readonly OptionDeclaration[];
}
