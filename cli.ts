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
import { Command, CommanderError } from "commander";
import { UserError } from "./lib/errors.ts";

function program(): Command {
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
      "filter/build/wasmerang.wasm",
    )
    .option("--debug", "build without optimization, with debug info")
    .option(
      "--entry <path>",
      "the filter's entry file (default: the project's filter/assembly/index.ts)",
    )
    .option("--embed", "also refresh the module embedded in the tool")
    .action(async (options) => {
      const { build } = await import("./tasks/build.ts");
      await build(options);
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
    .option("--wasm <path>", "use this module instead of the embedded one")
    .option("--json", "print one JSON array")
    .option("--verbose", "print the filter's log lines")
    .action(async (sources, options) => {
      const { route } = await import("./tasks/route.ts");
      await route(sources, options);
    });

  cli.command("up")
    .description("launch a working example around the filter")
    .argument("<mode>", "local, docker or istio")
    .option(
      "--listen <host:port>",
      "local: the proxy's address (default 127.0.0.1:10000)",
    )
    .option(
      "--egress1 <host:port>",
      "local: the even egress (default 127.0.0.1:19001)",
    )
    .option(
      "--egress2 <host:port>",
      "local: the odd egress (default 127.0.0.1:19002)",
    )
    .option(
      "--config <string>",
      'local: plugin configuration, "standalone" (default) or JSON',
    )
    .option(
      "--detach",
      "local: run in the background (stop it with 'wasmerang down local')",
    )
    .option(
      "--dir <dir>",
      "the example folder (docker: envoy-docker, istio: istio-k8s)",
    )
    .option(
      "--dry-run",
      "print the exact commands and files; run and write nothing",
    )
    .option("--wasm <path>", "run this module instead of the embedded filter")
    .option(
      "--ready-timeout <seconds>",
      "docker: how long to wait for Envoy's /ready (default 90)",
      Number,
    )
    .option(
      "--namespace <ns>",
      "istio: namespace when up writes the folder (default default)",
    )
    .option(
      "--cluster-name <name>",
      "istio: kind cluster when up writes the folder (default wasmerang)",
    )
    .option(
      "--http-override",
      "istio: also route port 80 through tcp_proxy when up writes the folder",
    )
    .action(async (mode, options) => {
      const { up } = await import("./tasks/up.ts");
      await up(mode, options);
    });

  cli.command("probe")
    .description(
      "connect from chosen source IPs and show which egress answered",
    )
    .argument("[mode]", "local (default), docker or istio")
    .option(
      "--from <ips>",
      "comma-separated source IPs (local: default 127.0.0.10-17; docker: default 172.21.0.10-13)",
    )
    .option(
      "--dir <dir>",
      "the example folder (docker: envoy-docker; istio: istio-k8s, for its namespace and cluster)",
    )
    .option(
      "--count <n>",
      "local: connections per source (default 1); istio: from the client pods (default 8)",
    )
    .option(
      "--port <port>",
      "istio: 9000 (default), or 80 with the HTTP override",
    )
    .option("--namespace <ns>", "istio: the example's namespace")
    .option("--cluster-name <name>", "istio: the kind cluster")
    .option(
      "--to <host:port>",
      "local: the proxy to probe (default: the running example's, else 127.0.0.1:10000)",
    )
    .option(
      "--config <string>",
      "local: the configuration to expect (default: the running example's)",
    )
    .option("--json", "print the report as JSON")
    .action(async (mode, options) => {
      const { probe } = await import("./tasks/probe.ts");
      await probe(mode, options);
    });

  cli.command("down")
    .description("tear an example down, leaving nothing behind")
    .argument("<mode>", "local, docker or istio")
    .option("--dir <dir>", "the example folder (docker: envoy-docker)")
    .option("--dry-run", "print the exact commands; run nothing")
    .option("--cluster", "istio: delete the whole kind cluster")
    .option("--namespace <ns>", "istio: the example's namespace")
    .option("--cluster-name <name>", "istio: the kind cluster")
    .action(async (mode, options) => {
      const { down } = await import("./tasks/down.ts");
      await down(mode, options);
    });

  cli.command("scaffold")
    .description("write the example files `up` launches, to read and edit")
    .argument("<mode>", "docker or istio")
    .option(
      "--dir <dir>",
      "where to write (docker: envoy-docker, istio: istio-k8s)",
    )
    .option("--force", "replace files that differ")
    .option(
      "--envoy-image <image>",
      "docker: Envoy image (default envoyproxy/envoy:v1.40.0)",
    )
    .option(
      "--subnet <cidr>",
      "docker: the compose network's subnet (default 172.21.0.0/16)",
    )
    .option("--wasm <path>", "ship this module instead of the embedded filter")
    .option(
      "--namespace <ns>",
      "istio: namespace of every object (default default)",
    )
    .option(
      "--cluster-name <name>",
      "istio: the kind cluster's name (default wasmerang)",
    )
    .option(
      "--http-override",
      "istio: also route port 80 (HTTP to Istio) through tcp_proxy",
    )
    .action(async (mode, options) => {
      const { scaffold } = await import("./tasks/scaffold.ts");
      await scaffold(mode, options);
    });

  cli.command("check")
    .description("check Envoy config files against Envoy's own API protos")
    .argument("<file...>", "Envoy bootstrap files (YAML or JSON)")
    .option("--json", "print the issues as JSON")
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
      "exit 1 when something this mode needs is missing: local, docker or istio",
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
    await program().parseAsync(args, { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0 || error.code === "commander.helpDisplayed") {
        return 0;
      }
      const message = error.message.replace(/^error: /, "").replace(
        /\s*\n\s*/g,
        " ",
      );
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
