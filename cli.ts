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
import { collect, path, seconds, wholeNumber } from "./lib/cli_options.ts";

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
    .option(
      "--root-id <id>",
      "the root id to start the filter under (default wasmerang)",
    )
    .option("--json", "print one JSON array")
    .option("--verbose", "print the filter's log lines")
    .action(async (sources, options) => {
      const { route } = await import("./tasks/route.ts");
      await route(sources, options);
    });

  cli.command("up")
    .description("launch a working example around the filter")
    .argument("<mode>", "local, docker, istio or envoy")
    .option(
      "--listen <host:port>",
      "local, envoy: the proxy's address (default 127.0.0.1:10000)",
    )
    .option(
      "--admin <host:port>",
      "envoy: Envoy's admin address (default 127.0.0.1:9901)",
    )
    .option(
      "--egress1 <host:port>",
      "local, envoy: the even egress (default 127.0.0.1:19001)",
    )
    .option(
      "--egress2 <host:port>",
      "local, envoy: the odd egress (default 127.0.0.1:19002)",
    )
    .option(
      "--cluster <name=host:port>",
      "local, envoy: a cluster and its egress, repeatable; the first is the default (replaces --egress1/--egress2)",
      collect,
    )
    .option(
      "--config <string>",
      'local, envoy: plugin configuration, "standalone" (default) or JSON',
    )
    .option(
      "--root-id <id>",
      "local, envoy: the filter's root id (default wasmerang)",
    )
    .option(
      "--envoy <path>",
      "envoy: the Envoy binary (default $WASMERANG_ENVOY, else envoy on PATH)",
    )
    .option(
      "--detach",
      "local, envoy: run in the background (stop it with 'wasmerang down local|envoy')",
    )
    .option(
      "--dir <dir>",
      "the example folder (docker: envoy-docker, istio: istio-k8s)",
      path,
    )
    .option(
      "--dry-run",
      "print the exact commands and files; run and write nothing",
    )
    .option(
      "--wasm <path>",
      "run this module instead of the embedded filter",
      path,
    )
    .option(
      "--ready-timeout <seconds>",
      "docker: how long to wait for Envoy's /ready (default 90)",
      seconds,
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
    .option(
      "--api <api>",
      "istio: wasmplugin (default) or envoyfilter, when up writes the folder",
    )
    // The background process of --detach: names its state directory.
    .addOption(new Option("--detached-in <dir>").hideHelp())
    .action(async (mode, options) => {
      const { up } = await import("./tasks/up.ts");
      await up(mode, options);
    });

  cli.command("probe")
    .description(
      "connect from chosen source IPs and show which egress answered",
    )
    .argument("[mode]", "local (default), docker, istio or envoy")
    .option(
      "--from <ips>",
      "comma-separated source IPs (local, envoy: default 127.0.0.10-17; docker: default 172.21.0.10-13)",
    )
    .option(
      "--dir <dir>",
      "the example folder (docker: envoy-docker; istio: istio-k8s, for its namespace and cluster)",
      path,
    )
    .option(
      "--count <n>",
      "local, envoy: connections per source (default 1); istio: from the client pods (default 8)",
      wholeNumber(1, 1000),
    )
    .option(
      "--port <port>",
      "istio: 9000 (default), or 80 with the HTTP override",
      wholeNumber(1, 65535),
    )
    .option("--namespace <ns>", "istio: the example's namespace")
    .option("--cluster-name <name>", "istio: the kind cluster")
    .option(
      "--to <host:port>",
      "local, envoy: the proxy to probe (default: the running example's, else 127.0.0.1:10000)",
    )
    .option(
      "--admin <host:port>",
      "envoy: Envoy's admin, for the filter's counters (default: the running example's, else 127.0.0.1:9901)",
    )
    .option(
      "--config <string>",
      "local, envoy: judge by this configuration (default: the running example's)",
    )
    .option(
      "--wasm <path>",
      "local, envoy: judge by this module (default: the running example's)",
      path,
    )
    .option(
      "--root-id <id>",
      "local, envoy: judge under this root id (default: the running example's)",
    )
    .option(
      "--default-cluster <name>",
      "local, envoy: where a connection the filter leaves alone goes (default: the running example's)",
    )
    .option("--json", "print the report as JSON")
    .action(async (mode, options) => {
      const { probe } = await import("./tasks/probe.ts");
      await probe(mode, options);
    });

  cli.command("down")
    .description("tear an example down, leaving nothing behind")
    .argument("<mode>", "local, docker, istio or envoy")
    .option("--dir <dir>", "the example folder (docker: envoy-docker)", path)
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
      path,
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
    .option(
      "--wasm <path>",
      "ship this module instead of the embedded filter",
      path,
    )
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
    .option(
      "--api <api>",
      "istio: install the filter with a WasmPlugin (wasmplugin, the default) or an EnvoyFilter (envoyfilter)",
    )
    .action(async (mode, options) => {
      const { scaffold } = await import("./tasks/scaffold.ts");
      await scaffold(mode, options);
    });

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
    await program().parseAsync(args, { from: "user" });
    return 0;
  } catch (error) {
    return reportFailure(error);
  }
}

if (import.meta.main) {
  catchStrayFailures();
  Deno.exit(await main(Deno.args));
}
