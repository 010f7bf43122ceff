/**
 * The `wasmerang` command: argument parsing and dispatch to tasks/, nothing else.
 * User mistakes print one line and exit non-zero; usage errors exit 2.
 *
 * Each command loads its task module only when it runs (`import()` in its
 * action), so that `route` or `--help` do not pay for the compiler, the
 * Kubernetes models or the Envoy checker. deno.json's `lazy-dynamic-imports`
 * keeps `deno run` from loading them all ahead anyway. The specifiers stay
 * string literals: `deno compile` includes statically analyzable dynamic
 * imports in the binary.
 */
import { Command, Option } from "commander";
import { catchStrayFailures, reportFailure } from "./lib/cli_errors.ts";
import { path } from "./lib/cli_options.ts";
import { UsageError } from "./lib/errors.ts";
import { FILTER_OPTION, ROOT_ID_OPTION } from "./lib/filter_flags.ts";
import type {
  EnvironmentOptions,
  OptionDeclaration,
} from "./environments/environment.ts";

/** The commands that take a mode, each mode a subcommand with its own flags. */
type Verb = "up" | "probe" | "down" | "scaffold";
const VERBS: readonly string[] = ["up", "probe", "down", "scaffold"];

/** Each mode's flags by mode name, in the order help lists them. */
type Modes = Readonly<Record<string, EnvironmentOptions>>;

/**
 * The environments' flag declarations, loaded only for the commands that take
 * a mode (and `help`): those commands load every environment anyway.
 */
async function loadModes(args: string[]): Promise<Modes> {
  if (!VERBS.includes(args[0]) && args[0] !== "help") return {};
  const [local, docker, istio, envoy] = await Promise.all([
    import("./environments/local/options.ts"),
    import("./environments/docker/options.ts"),
    import("./environments/istio/options.ts"),
    import("./environments/envoy/options.ts"),
  ]);
  return {
    local: local.LOCAL_OPTIONS,
    docker: docker.DOCKER_OPTIONS,
    istio: istio.ISTIO_OPTIONS,
    envoy: envoy.ENVOY_OPTIONS,
  };
}

/**
 * `verb`: its modes as subcommands; its own action runs only for a mode that
 * is not one, and fails naming the choices.
 */
function modeCommand(
  cli: Command,
  verb: Verb,
  description: string,
  modes: Modes,
): Command {
  const names = Object.entries(modes)
    .filter(([, options]) => options[verb] !== undefined)
    .map(([name]) => name);
  return cli.command(verb)
    .description(description)
    .usage(verb === "probe" ? "[mode] [options]" : "<mode> [options]")
    .argument(
      verb === "probe" ? "[mode]" : "<mode>",
      names.join(", ") || "the environment",
    );
}

/** The subcommands `verb <mode>`, each with only the flags its environment declares. */
function modeSubcommands(
  cli: Command,
  verb: Verb,
  modes: Modes,
): [string, Command][] {
  const parent = cli.commands.find((command) => command.name() === verb)!;
  const made: [string, Command][] = [];
  for (const [mode, options] of Object.entries(modes)) {
    const declarations = options[verb];
    if (declarations === undefined) continue;
    const command = parent.command(mode).description(options.summary);
    for (const declaration of declarations) {
      command.addOption(commanderOption(declaration));
    }
    refuseUndeclared(command, `${verb} ${mode}`);
    made.push([mode, command]);
  }
  return made;
}

/** The commander option for a declaration, its default shown once, from the declaration. */
function commanderOption(declaration: OptionDeclaration): Option {
  const { flags, description, default: shown, parse, hidden } = declaration;
  const option = new Option(
    flags,
    shown === undefined ? description : `${description} (default: ${shown})`,
  );
  if (parse !== undefined) option.argParser(parse);
  if (hidden) option.hideHelp();
  return option;
}

/**
 * A flag `command` does not declare is a one-line usage error naming the
 * flags it takes (read when the error happens, so that flags added after
 * the declarations, like probe's `--json`, count).
 */
function refuseUndeclared(command: Command, name: string): void {
  Object.assign(command, {
    unknownOption(flag: string): never {
      const takes = command.options
        .filter((option) => !option.hidden && option.long !== undefined)
        .map((option) => option.long);
      throw new UsageError(
        `${name} does not take ${flag.replace(/=.*$/, "")} (it takes: ${
          takes.length === 0 ? "no flags" : takes.join(", ")
        })`,
      );
    },
  });
}

/** `probe` without a mode, or with flags first, probes local. */
function withDefaultMode(args: string[]): string[] {
  const [first, second] = args;
  if (first !== "probe") return args;
  if (
    second === undefined ||
    (second.startsWith("-") && second !== "-h" && second !== "--help")
  ) {
    return ["probe", "local", ...args.slice(1)];
  }
  return args;
}

function program(modes: Modes = {}): Command {
  const cli = new Command("wasmerang")
    .description(
      "Write, run and prove TCP-level (L4) WebAssembly filters for Envoy and Istio.",
    )
    .version("0.1.0")
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: () => {} });

  cli.command("build")
    .description("compile filter/ (AssemblyScript) to a proxy-wasm module")
    .option(
      "--out <path>",
      "where to write the module",
      path,
      "filter/build/wasmerang.wasm",
    )
    .option("--debug", "build without optimization, with debug info")
    .option(
      "--entry <path>",
      "the filter's entry file (default: the project's filter/assembly/index.ts)",
      path,
    )
    .option("--embed", "also refresh the module embedded in the tool")
    .action(async (options) => {
      const { build } = await import("./tasks/build.ts");
      await build(options);
    });

  cli.command("new")
    .description(
      "write a filter project: one decision function to edit, its tests, the SDK workarounds",
    )
    .argument("<dir>", "the project folder (missing or empty)", path)
    .option(
      "--root-id <id>",
      "the root id the filter registers (default wasmerang)",
    )
    .action(async (dir, options) => {
      const { newProject } = await import("./tasks/new.ts");
      await newProject(dir, options);
    });

  cli.command("route")
    .description(
      "run the filter in the embedded host and print its decision for each source",
    )
    .argument(
      "<source-address...>",
      "source addresses, e.g. 10.0.0.2 or 10.0.0.3:5555",
    )
    .option(
      "--config <string>",
      'plugin configuration: "standalone", "istio" or JSON',
      "standalone",
    )
    .option(
      "--destination <addr>",
      "destination address of each connection",
      "10.96.0.1:443",
    )
    .option(
      "--wasm <path>",
      "use this module instead of the embedded one",
      path,
    )
    .addOption(commanderOption(FILTER_OPTION))
    .addOption(commanderOption(ROOT_ID_OPTION))
    .option("--json", "print one JSON array")
    .option("--verbose", "print the filter's log lines")
    .action(async (sources, options) => {
      const { route } = await import("./tasks/route.ts");
      await route(sources, options);
    });

  modeCommand(cli, "up", "launch a working example around the filter", modes)
    .action(async (mode) => {
      const { up } = await import("./tasks/up.ts");
      await up(mode);
    });
  for (const [mode, command] of modeSubcommands(cli, "up", modes)) {
    command.action(async (options) => {
      const { up } = await import("./tasks/up.ts");
      await up(mode, options);
    });
  }

  modeCommand(
    cli,
    "probe",
    "connect from chosen source IPs and show which egress answered (mode: local by default)",
    modes,
  ).action(async (mode) => {
    const { probe } = await import("./tasks/probe.ts");
    await probe(mode);
  });
  for (const [mode, command] of modeSubcommands(cli, "probe", modes)) {
    // The probe task prints the report, the same for every mode.
    command.option("--json", "print the report as JSON");
    command.action(async (options) => {
      const { probe } = await import("./tasks/probe.ts");
      await probe(mode, options);
    });
  }

  modeCommand(
    cli,
    "down",
    "tear an example down, leaving nothing behind",
    modes,
  )
    .action(async (mode) => {
      const { down } = await import("./tasks/down.ts");
      await down(mode);
    });
  for (const [mode, command] of modeSubcommands(cli, "down", modes)) {
    command.action(async (options) => {
      const { down } = await import("./tasks/down.ts");
      await down(mode, options);
    });
  }

  modeCommand(
    cli,
    "scaffold",
    "write the example files `up` launches, to read and edit",
    modes,
  ).action(async (mode) => {
    const { scaffold } = await import("./tasks/scaffold.ts");
    await scaffold(mode, {});
  });
  for (const [mode, command] of modeSubcommands(cli, "scaffold", modes)) {
    command.action(async (options) => {
      const { scaffold } = await import("./tasks/scaffold.ts");
      await scaffold(mode, options);
    });
  }

  cli.command("check")
    .description(
      "check Envoy config files against Envoy's own API protos, and by Envoy itself when found",
    )
    .argument("<file...>", "Envoy bootstrap files (YAML or JSON)")
    .option("--json", "print the issues as JSON")
    .option(
      "--envoy <path>",
      "the Envoy binary for `--mode validate` (default: $WASMERANG_ENVOY, then envoy on PATH)",
    )
    .option("--proto-only", "skip Envoy's own validator")
    .action(async (files, options) => {
      const { check } = await import("./tasks/check.ts");
      await check(files, options);
    });

  cli.command("doctor")
    .description(
      "say which prerequisites are present, with versions and install hints",
    )
    .argument(
      "[mode]",
      "exit 1 when something this mode needs is missing: local, docker, istio or envoy",
    )
    .option("--json", "print the findings as JSON")
    .action(async (mode, options) => {
      const { doctor } = await import("./tasks/doctor.ts");
      await doctor(mode, options);
    });

  return cli;
}

/** Runs the CLI with `args` and returns the process exit code. */
export async function main(args: string[]): Promise<number> {
  try {
    if (args.length === 0) {
      program().outputHelp();
      return 0;
    }
    const modes = await loadModes(args);
    await program(modes).parseAsync(withDefaultMode(args), { from: "user" });
    return 0;
  } catch (error) {
    return reportFailure(error);
  }
}

if (import.meta.main) {
  catchStrayFailures();
  Deno.exit(await main(Deno.args));
}
