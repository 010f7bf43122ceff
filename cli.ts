/**
 * The `wasmerang` command: argument parsing and dispatch to tasks/, nothing else.
 * User mistakes print one line and exit non-zero; usage errors exit 2.
 */
import { Command, CommanderError } from "commander";
import { UserError } from "./lib/errors.ts";
import { build } from "./tasks/build.ts";
import { route } from "./tasks/route.ts";

function program(): Command {
  const cli = new Command("wasmerang")
    .description("Write, run and prove TCP-level (L4) WebAssembly filters for Envoy and Istio.")
    .version("0.1.0")
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: () => {} });

  cli.command("build")
    .description("compile filter/ (AssemblyScript) to a proxy-wasm module")
    .option("--out <path>", "where to write the module", "filter/build/wasmerang.wasm")
    .option("--debug", "build without optimization, with debug info")
    .option("--entry <path>", "the filter's entry file", "filter/assembly/index.ts")
    .option("--embed", "also refresh the module embedded in the tool")
    .action(async (options) => await build(options));

  cli.command("route")
    .description("run the filter in the embedded host and print its decision for each source")
    .argument("<source-address...>", "source addresses, e.g. 10.0.0.2 or 10.0.0.3:5555")
    .option("--config <string>", 'plugin configuration: "standalone", "istio" or JSON', "standalone")
    .option("--destination <addr>", "destination address of each connection", "10.96.0.1:443")
    .option("--wasm <path>", "use this module instead of the embedded one")
    .option("--json", "print one JSON array")
    .option("--verbose", "print the filter's log lines")
    .action(async (sources, options) => await route(sources, options));

  return cli;
}

/** Runs the CLI with `args` and returns the process exit code. */
export async function main(args: string[]): Promise<number> {
  try {
    await program().parseAsync(args, { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0 || error.code === "commander.helpDisplayed") return 0;
      const message = error.message.replace(/^error: /, "").replace(/\s*\n\s*/g, " ");
      console.error(`wasmerang: ${message} (see 'wasmerang --help')`);
      return 2;
    }
    if (error instanceof UserError) {
      console.error(`wasmerang: ${error.message}`);
      return error.exitCode;
    }
    throw error;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
