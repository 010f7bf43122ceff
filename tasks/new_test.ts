// `wasmerang new`: a project made by it builds through the tool, its own tests pass
// offline (in the host, and in Envoy when one is found), and a rule written into its
// decide() is what the module decides.
import assert from "node:assert/strict";
import { ProxyWasmVm } from "../host/mod.ts";
import { LIBRARY_DIR } from "../lib/compiler.ts";
import { envoyFromEnvironment } from "../lib/envoy_table.ts";
import {
  ENVOY_TABLE_SOURCE,
  LIBRARY_FILES,
  PROJECT_ENVOY_TABLE,
  PROJECT_LIBRARY,
} from "../lib/new_project.ts";
import { runCli } from "../testing/cli.ts";
import { tempDir } from "../testing/temp.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;
const CLUSTER_KEY = "envoy.tcp_proxy.cluster";

/** The last octet mod 3 picks one of three clusters; anything not IPv4 is left alone. */
const BY_LAST_OCTET = `import { ipv4Octet } from "./lib/address";

export function decide(source: string, destination: string): string | null {
  const octet = ipv4Octet(source, 3);
  if (octet < 0) return null;
  const pick = octet % 3;
  if (pick == 0) return "zero";
  if (pick == 1) return "one";
  return "two";
}
`;

const TABLE: [string, string, string | null][] = [
  ["10.0.0.3:5555", "10.96.0.1:443", "zero"],
  ["10.0.0.4:5555", "10.96.0.1:443", "one"],
  ["10.0.0.5", "10.96.0.1:80", "two"],
  ["[::ffff:192.168.1.9]:80", "[::ffff:10.96.0.1]:443", "zero"],
  ["[2001:db8::1]:9000", "[2001:db8::2]:443", null],
  // Two IP families: the host takes it, Envoy cannot see such a connection.
  ["10.0.0.6:5555", "[2001:db8::2]:443", "zero"],
];

/** A network namespace with only loopback (root), or undefined: then the test runs as it is. */
async function offlineNamespace(): Promise<string | undefined> {
  const name = `wasmerang-new-${Deno.pid}`;
  const added = await new Deno.Command("ip", {
    args: ["netns", "add", name],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => ({ success: false }));
  if (!added.success) return undefined;
  await new Deno.Command("ip", {
    args: ["netns", "exec", name, "ip", "link", "set", "lo", "up"],
  }).output();
  return name;
}

Deno.test("a project from new, its rule edited, builds and passes its own tests offline (in the host, and in Envoy when one is found); the host agrees", async () => {
  await using temp = await tempDir();
  const dir = `${temp.path}/by-octet`;
  const made = await runCli(["new", dir]);
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.stdout, /assembly\/decide\.ts/);

  // The library is the tool's own, byte for byte: the flagship filter imports these files.
  for (const name of LIBRARY_FILES) {
    assert.equal(
      await Deno.readTextFile(`${dir}/${PROJECT_LIBRARY}/${name}`),
      await Deno.readTextFile(`${LIBRARY_DIR}${name}`),
      name,
    );
  }

  // So is the Envoy table runner the project's test imports.
  assert.equal(
    await Deno.readTextFile(`${dir}/${PROJECT_ENVOY_TABLE}`),
    await Deno.readTextFile(ENVOY_TABLE_SOURCE),
  );

  await Deno.writeTextFile(`${dir}/assembly/decide.ts`, BY_LAST_OCTET);
  const test = await Deno.readTextFile(`${dir}/decisions_test.ts`);
  const table = TABLE.map((row) => `  ${JSON.stringify(row)},`).join("\n");
  const edited = test.replace(
    /(const TABLE[^=]*= \[\n)[\s\S]*?(\n\];)/,
    (_, head, tail) => `${head}${table}${tail}`,
  );
  assert.notEqual(edited, test, "the generated test has a TABLE to edit");
  await Deno.writeTextFile(`${dir}/decisions_test.ts`, edited);

  // The project's own tests, one command, with the network gone when we can take it away;
  // with an Envoy ($WASMERANG_ENVOY or PATH, as the project finds it) the table runs in it too.
  const envoy = envoyFromEnvironment();
  const netns = await offlineNamespace();
  try {
    const argv = [Deno.execPath(), "test", "-A", "--quiet"];
    const command = netns === undefined
      ? argv
      : ["ip", "netns", "exec", netns, ...argv];
    const started = performance.now();
    const output = await new Deno.Command(command[0], {
      args: command.slice(1),
      cwd: dir,
      env: { NO_COLOR: "1", WASMERANG: `${Deno.execPath()} run -A ${CLI}` },
      stdin: "null",
      signal: AbortSignal.timeout(180_000),
    }).output();
    const text = new TextDecoder().decode(output.stdout) +
      new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, text);
    assert.doesNotMatch(text, /Download https?:/);
    if (envoy === undefined) {
      assert.match(text, /1 passed \(6 steps\) \| 0 failed \| 1 ignored/);
      assert.match(text, /Envoy step skipped: no Envoy .* ignored/);
    } else {
      // The row of two IP families is no connection Envoy can see: not run there.
      assert.match(
        text,
        /2 passed \(11 steps\) \| 0 failed \| 0 ignored \(1 step\)/,
      );
      assert.match(
        text,
        /the filter decides as the table says in Envoy \.\.\. ok/,
      );
      assert.match(
        text,
        /10\.0\.0\.6:5555 -> \[2001:db8::2\]:443: zero \(not run: .*different IP families.*\) \.\.\. ignored/,
      );
    }
    console.log(
      `  the project's tests${netns ? " (offline namespace)" : ""}${
        envoy ? " with Envoy" : ""
      }: ${Math.round(performance.now() - started)} ms`,
    );
  } finally {
    if (netns !== undefined) {
      await new Deno.Command("ip", { args: ["netns", "delete", netns] })
        .output();
    }
  }

  // The module the project's build wrote decides as the rule says, in the host.
  const wasm = await Deno.readFile(`${dir}/build/filter.wasm`);
  const vm = await ProxyWasmVm.load(wasm, {
    rootId: "wasmerang",
    logLevel: "debug",
  });
  try {
    for (const [source, destination, expected] of TABLE) {
      const connection = vm.openConnection({ source, destination });
      connection.finish();
      assert.equal(
        connection.filterState.get(CLUSTER_KEY) ?? null,
        expected,
        source,
      );
      const line = connection.logs.map((entry) => entry.message).join("\n");
      assert.match(
        line,
        expected === null
          ? /-> no override \(decide chose none\)/
          : new RegExp(`-> ${expected}$`, "m"),
      );
    }
  } finally {
    vm.close();
  }
});

Deno.test("without an Envoy, the project's Envoy test is ignored, its name saying how to enable it", async () => {
  await using temp = await tempDir();
  const dir = `${temp.path}/no-envoy`;
  assert.equal((await runCli(["new", dir])).code, 0);
  // No WASMERANG_ENVOY, and a PATH without envoy.
  const env: Record<string, string> = { NO_COLOR: "1", PATH: "/usr/bin:/bin" };
  for (const name of ["HOME", "DENO_DIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", "--quiet", "--filter", "Envoy"],
    cwd: dir,
    clearEnv: true,
    env,
    stdin: "null",
  }).output();
  const text = new TextDecoder().decode(output.stdout) +
    new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, text);
  assert.match(
    text,
    /^Envoy step skipped: no Envoy \(WASMERANG_ENVOY unset, no envoy on PATH\): .*set WASMERANG_ENVOY=.* \.\.\. ignored/m,
  );
  assert.match(text, /0 passed \| 0 failed \| 1 ignored/);
});

Deno.test("new with another root id: build inside the project starts the module with it", async () => {
  await using temp = await tempDir();
  const dir = `${temp.path}/other`;
  assert.equal((await runCli(["new", dir, "--root-id", "my-l4"])).code, 0);
  const project = JSON.parse(await Deno.readTextFile(`${dir}/wasmerang.json`));
  assert.equal(project.rootId, "my-l4");
  // The files come formatted: the user's first `deno fmt` changes nothing.
  const fmt = await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--check"],
    cwd: dir,
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.ok(fmt.success, new TextDecoder().decode(fmt.stderr));
  const built = await runCli(["build", "--debug"], { cwd: `${dir}/assembly` });
  assert.equal(built.code, 0, built.stderr);
  assert.match(built.stdout, /built .*build\/filter\.wasm/);
  assert.match(built.stdout, /root id +my-l4 \(the module starts with it\)/);
  const vm = await ProxyWasmVm.load(
    await Deno.readFile(`${dir}/build/filter.wasm`),
    { rootId: "my-l4" },
  );
  const connection = vm.openConnection({
    source: "10.0.0.2:5555",
    destination: "10.96.0.1:443",
  });
  connection.finish();
  assert.equal(connection.filterState.get(CLUSTER_KEY), "tls");
  vm.close();
});

Deno.test("new refuses a folder that is not empty (exit 1) and a bad root id (exit 2); build --entry --embed and --embed in a project are usage errors", async () => {
  await using temp = await tempDir();
  await Deno.writeTextFile(`${temp.path}/keep.txt`, "mine\n");
  const full = await runCli(["new", temp.path]);
  assert.equal(full.code, 1);
  assert.match(full.stderr, /is not empty: give a new folder/);
  assert.equal(await Deno.readTextFile(`${temp.path}/keep.txt`), "mine\n");

  const badId = await runCli(["new", `${temp.path}/x`, "--root-id", "a b"]);
  assert.equal(badId.code, 2);
  assert.equal(badId.stderr.trim().split("\n").length, 1);

  const embed = await runCli([
    "build",
    "--entry",
    `${temp.path}/index.ts`,
    "--embed",
  ]);
  assert.equal(embed.code, 2);
  assert.match(embed.stderr, /--embed is for the tool's own filter/);

  assert.equal((await runCli(["new", `${temp.path}/p`])).code, 0);
  const inProject = await runCli(["build", "--embed"], {
    cwd: `${temp.path}/p`,
  });
  assert.equal(inProject.code, 2);
  assert.match(inProject.stderr, /not the project in/);
});
