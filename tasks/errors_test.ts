// Misuse of the CLI, as a user meets it (a subprocess): every expected failure
// is one line on stderr without a stack trace, exit 1 (failure) or 2 (usage),
// and leaves no file behind.
import assert from "node:assert/strict";
import { join } from "node:path";
import { TestModule } from "../host/testing/wat.ts";
import { embeddedFilter } from "../lib/filter_module.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

async function run(args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  // Deno's own note when another deno process holds the node_modules lock is not ours.
  const stderr = decode(output.stderr).split("\n").filter((line) =>
    !line.startsWith("Blocking waiting for file lock")
  ).join("\n");
  return { code: output.code, stdout: decode(output.stdout), stderr };
}

/** Runs the CLI and asserts one stderr line, no stack frame, and `code`; returns the line. */
async function oneLineFailure(
  args: string[],
  code: number,
  env: Record<string, string> = {},
  quietStdout = false,
): Promise<string> {
  const result = await run(args, env);
  const shown = `wasmerang ${args.join(" ")}:\n${result.stderr}`;
  assert.equal(result.code, code, shown);
  if (quietStdout) assert.equal(result.stdout, "", shown);
  assert.doesNotMatch(result.stderr, /^\s+at /m, shown);
  assert.doesNotMatch(result.stderr, /abort\(|Uncaught|this is a bug/, shown);
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, shown);
  assert.match(lines[0], /^wasmerang: /);
  return lines[0];
}

/** A module with the exports Envoy needs whose `proxy_on_new_connection` traps on its 2nd call in a VM. */
async function trapsOnSecondConnection(): Promise<Uint8Array> {
  return await new TestModule("0_2_0").body(`
    (global $n (mut i32) (i32.const 0))
    (func (export "proxy_on_context_create") (param i32 i32))
    (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
    (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
    (func (export "proxy_on_new_connection") (param i32) (result i32)
      (global.set $n (i32.add (global.get $n) (i32.const 1)))
      (if (i32.eq (global.get $n) (i32.const 2)) (then unreachable))
      (i32.const 0))
    (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
    (func (export "proxy_on_delete") (param i32))`).build();
}

/** A module with every export Envoy needs whose `proxy_on_vm_start` traps. */
async function trapsWhenStarting(): Promise<Uint8Array> {
  return await new TestModule("0_2_0").body(`
    (func (export "proxy_on_context_create") (param i32 i32))
    (func (export "proxy_on_vm_start") (param i32 i32) (result i32) unreachable)
    (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
    (func (export "proxy_on_new_connection") (param i32) (result i32) (i32.const 0))
    (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
    (func (export "proxy_on_delete") (param i32))`).build();
}

/** A valid WebAssembly module that is not a proxy-wasm filter. */
const NOT_PROXY_WASM = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);

async function withTemp(work: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "wasmerang-errors-" });
  try {
    await work(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function entries(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

Deno.test("wasmerang with no arguments prints the help and nothing else, exit 0", async () => {
  const { code, stdout, stderr } = await run([]);
  assert.equal(code, 0);
  assert.equal(stderr, "");
  assert.match(stdout, /^Usage: wasmerang /);
  assert.match(stdout, /route \[options\]/);
});

Deno.test("route --wasm with a module that is not proxy-wasm: one line, exit 1", async () => {
  await withTemp(async (dir) => {
    const wasm = join(dir, "plain.wasm");
    await Deno.writeFile(wasm, NOT_PROXY_WASM);
    const line = await oneLineFailure(["route", "10.0.0.2", "--wasm", wasm], 1);
    assert.match(
      line,
      /cannot be loaded: Missing or unknown Proxy-Wasm ABI version/,
    );
  });
});

Deno.test("route: a source that traps is reported per source, the others still answered, exit 1", async () => {
  await withTemp(async (dir) => {
    const wasm = join(dir, "trap.wasm");
    await Deno.writeFile(wasm, await trapsOnSecondConnection());
    const sources = ["10.0.0.2", "10.0.0.3", "10.0.0.4"];
    const text = await run(["route", ...sources, "--wasm", wasm]);
    assert.equal(text.code, 1);
    assert.deepEqual(text.stdout.trim().split("\n"), [
      "10.0.0.2 → (no override)",
      "10.0.0.3 → trapped: unreachable in proxy_on_new_connection",
      "10.0.0.4 → (no override)",
    ]);
    assert.match(
      text.stderr,
      /^wasmerang: the filter trapped on 1 of 3 source/,
    );
    assert.doesNotMatch(text.stderr, /^\s+at /m);
    const json = await run(["route", ...sources, "--wasm", wasm, "--json"]);
    assert.equal(json.code, 1);
    const decisions = JSON.parse(json.stdout);
    assert.deepEqual(
      decisions.map((d: { trapped?: string }) => d.trapped ?? null),
      [null, "unreachable in proxy_on_new_connection", null],
    );
  });
});

Deno.test("route shows why there is no override inline", async () => {
  const { code, stdout } = await run(["route", "10.0.0.x", "10.0.0.3"]);
  assert.equal(code, 0);
  assert.deepEqual(stdout.trim().split("\n"), [
    "10.0.0.x → (no override: source is not an IP address)",
    "10.0.0.3 → egress2",
  ]);
});

Deno.test("route with a configuration nested thousands of levels deep: the filter refuses it, one line, exit 1", async () => {
  const deep = `{"clusters":${"[".repeat(20_000)}${"]".repeat(20_000)}}`;
  const line = await oneLineFailure(["route", "10.0.0.2", "--config", deep], 1);
  assert.match(line, /invalid configuration: nested deeper than 32 levels/);
});

Deno.test("scaffold --dir under a regular file: one line, exit 1, nothing written", async () => {
  await withTemp(async (dir) => {
    const file = join(dir, "file");
    await Deno.writeTextFile(file, "mine\n");
    const line = await oneLineFailure([
      "scaffold",
      "docker",
      "--dir",
      join(file, "sub"),
    ], 1);
    assert.match(line, /not a directory/);
    assert.deepEqual(await entries(dir), ["file"]);
    assert.equal(await Deno.readTextFile(file), "mine\n");
  });
});

Deno.test("scaffold --dir where no folder can be made (/proc): one line, exit 1", async () => {
  if (Deno.build.os !== "linux") return;
  const line = await oneLineFailure([
    "scaffold",
    "istio",
    "--dir",
    "/proc/wasmerang-test/istio",
  ], 1);
  assert.match(line, /cannot create the folder \/proc\/wasmerang-test/);
});

Deno.test("an unusable WASMERANG_STATE_DIR: one line naming it, exit 1, nothing started", async () => {
  await withTemp(async (dir) => {
    const file = join(dir, "file");
    await Deno.writeTextFile(file, "");
    const state = join(file, "state");
    const line = await oneLineFailure(
      [
        "up",
        "local",
        "--detach",
        "--listen",
        "127.0.0.1:0",
        "--egress1",
        "127.0.0.1:0",
        "--egress2",
        "127.0.0.1:0",
      ],
      1,
      { WASMERANG_STATE_DIR: state },
    );
    assert.match(line, /WASMERANG_STATE_DIR=/);
    assert.deepEqual(await entries(dir), ["file"]);
  });
});

Deno.test("scaffold, up --dry-run and up local refuse a module Envoy would not run, before writing anything", async () => {
  await withTemp(async (dir) => {
    const plain = join(dir, "plain.wasm");
    const starting = join(dir, "start-trap.wasm");
    await Deno.writeFile(plain, NOT_PROXY_WASM);
    await Deno.writeFile(starting, await trapsWhenStarting());
    const out = join(dir, "out");
    const cases: [string[], RegExp][] = [
      [
        ["scaffold", "docker", "--dir", out, "--wasm", plain],
        /lacks exports Envoy needs: ABI version marker/,
      ],
      [
        ["scaffold", "istio", "--dir", out, "--wasm", starting],
        /refusing to ship .*: the filter trapped while starting under root id "wasmerang": unreachable in proxy_on_vm_start \(if the filter registers another root id, give it with --root-id NAME\)/,
      ],
      [
        ["up", "docker", "--dry-run", "--dir", out, "--wasm", plain],
        /refusing to ship/,
      ],
      [
        ["up", "istio", "--dry-run", "--dir", out, "--wasm", starting],
        /refusing to ship/,
      ],
      [[
        "up",
        "local",
        "--wasm",
        starting,
        "--listen",
        "127.0.0.1:0",
        "--egress1",
        "127.0.0.1:0",
        "--egress2",
        "127.0.0.1:0",
      ], /refusing to ship/],
    ];
    for (const [args, pattern] of cases) {
      assert.match(await oneLineFailure(args, 1), pattern);
    }
    assert.deepEqual(await entries(dir), ["plain.wasm", "start-trap.wasm"]);
  });
});

Deno.test("up --wasm under a root id the module does not register says the line route says: which name to give --root-id", async () => {
  await withTemp(async (dir) => {
    const flagship = join(dir, "flagship.wasm");
    await Deno.writeFile(flagship, embeddedFilter());
    const line = await oneLineFailure([
      "up",
      "local",
      "--wasm",
      flagship,
      "--root-id",
      "not-ours",
      "--listen",
      "127.0.0.1:0",
      "--egress1",
      "127.0.0.1:0",
      "--egress2",
      "127.0.0.1:0",
    ], 1);
    assert.match(
      line,
      /^wasmerang: refusing to ship .*flagship\.wasm: the filter registers no root context named "not-ours" \(.* in proxy_on_context_create\): give the name its registerRootContext uses with --root-id NAME/,
    );
    assert.doesNotMatch(line, /registerRootContext name must/);
    const routed = await run([
      "route",
      "--wasm",
      flagship,
      "--root-id",
      "not-ours",
      "10.0.0.2",
    ]);
    assert.equal(routed.code, 1, routed.stderr);
    const said = routed.stderr.trim().replace(/^wasmerang: /, "");
    assert.ok(
      line.includes(`: ${said} (nothing was written or started)`),
      `up and route say the same line:\n${line}\n${routed.stderr}`,
    );
    assert.deepEqual(await entries(dir), ["flagship.wasm"]);
  });
});

Deno.test("usage mistakes are exit 2, one line, before anything starts", async () => {
  const cases: [string[], RegExp][] = [
    [
      ["up", "docker", "--dry-run", "--ready-timeout", "abc"],
      /--ready-timeout "abc": not a number of seconds/,
    ],
    [["scaffold", "docker", "--dir", ""], /--dir "": the path is empty/],
    [["down", "docker", "--dir", " "], /--dir " ": the path is empty/],
    [["build", "--out", ""], /--out "": the path is empty/],
    [
      ["build", "--entry", "README.md"],
      /--entry README.md: an AssemblyScript entry file ends in .ts/,
    ],
    [
      ["probe", "istio", "--count", "abc"],
      /--count "abc": not a whole number from 1 to 1000/,
    ],
    [
      ["probe", "istio", "--port", "99999"],
      /--port "99999": not a whole number from 1 to 65535/,
    ],
    [[
      "up",
      "local",
      "--egress1",
      "127.0.0.1:19001",
      "--egress2",
      "127.0.0.1:19001",
    ], /--egress1 and --egress2 both name 127.0.0.1:19001/],
    [["up", "local", "--listen", "[::1]:10000"], /must listen on IPv4/],
    [
      ["probe", "local", "--to", "10.1.2.3:80"],
      /--to 10.1.2.3:80 is not on IPv4 loopback/,
    ],
  ];
  // Usage errors stop before the command runs, so stdout stays empty.
  await Promise.all(cases.map(async ([args, pattern]) => {
    assert.match(await oneLineFailure(args, 2, {}, true), pattern);
  }));
});

Deno.test("build shows its progress, then one line after the compiler stops; no abort noise", async () => {
  await withTemp(async (dir) => {
    const entry = join(dir, "index.ts");
    await Deno.writeTextFile(entry, "export function f(): i32 { return 1; }\n");
    const result = await run([
      "build",
      "--entry",
      entry,
      "--out",
      join(dir, "out.wasm"),
    ]);
    assert.equal(result.code, 1, result.stderr);
    const lines = result.stderr.trim().split("\n");
    assert.match(
      lines[0],
      /^• Compiling .*index\.ts \(AssemblyScript, optimized\) …$/,
    );
    assert.match(
      lines.at(-1)!,
      /^wasmerang: the filter did not compile: the compiler stopped: .*must import @solo-io\/proxy-runtime/,
    );
    assert.doesNotMatch(result.stderr, /abort\(|Uncaught|^\s+at /m);
    assert.deepEqual(await entries(dir), ["index.ts"]);
  });
});
