// `wasmerang check` on hostile input, run as a user runs it: real symlinks,
// FIFOs, devices, oversized and binary files, an alias bomb, an Envoy whose
// validation times out, and manifests whose errors carry line numbers.
import { assertEquals, assertRejects } from "../host/testing/assert.ts";
import { UserError } from "../lib/errors.ts";
import { runCli } from "../testing/cli.ts";
import { testEnvoy } from "../testing/envoy.ts";
import { tempDir } from "../testing/temp.ts";
import { binaryReason, CHECK_INPUT_LIMIT, readCheckInput } from "./input.ts";
import { formatPath, parsePath } from "./render.ts";

const envoy = await testEnvoy();

/** `check` refused `file` in exactly one stderr line matching `pattern`. */
async function oneLine(
  args: string[],
  code: number,
  pattern: RegExp,
  env: Record<string, string> = {},
): Promise<void> {
  const run = await runCli(["check", ...args], { env, timeoutMs: 60_000 });
  const shown = `check ${args.join(" ")}:\n${run.stdout}${run.stderr}`;
  assertEquals(run.code, code, shown);
  assertEquals(run.stdout, "", shown);
  assertEquals(run.stderr.split("\n").length, 2, shown); // one line and its newline
  if (!pattern.test(run.stderr)) {
    throw new Error(`${shown}\ndoes not match ${pattern}`);
  }
}

const BOMB = [
  'a: &a ["x","x","x","x","x","x","x","x","x"]',
  ...["b", "c", "d", "e", "f", "g", "h", "i"].map((name, i) =>
    `${name}: &${name} [${Array(9).fill(`*${"abcdefghi"[i]}`).join(",")}]`
  ),
  "",
].join("\n");

Deno.test("check refuses non-regular files in one line, without opening them", async () => {
  await using dir = await tempDir();
  const zero = `${dir.path}/zero.yaml`;
  await Deno.symlink("/dev/zero", zero);
  const fifo = `${dir.path}/fifo.yaml`;
  const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
  assertEquals(made.code, 0);
  const started = performance.now();
  await oneLine(
    ["--proto-only", zero],
    2,
    /^wasmerang: cannot check .*zero\.yaml: a character device, not a regular file\n$/,
  );
  // Opening a FIFO with no writer would block: the run must end on its own.
  await oneLine(
    ["--proto-only", fifo],
    2,
    /^wasmerang: cannot check .*fifo\.yaml: a FIFO \(named pipe\), not a regular file\n$/,
  );
  await oneLine(
    ["--proto-only", dir.path],
    2,
    /^wasmerang: cannot check .*: a directory, not a regular file\n$/,
  );
  await oneLine(
    ["--proto-only", "/dev/null"],
    2,
    /^wasmerang: cannot check \/dev\/null: a character device, not a regular file\n$/,
  );
  // Three CLI starts, nothing read from /dev/zero.
  const seconds = (performance.now() - started) / 1000;
  if (seconds > 45) throw new Error(`took ${seconds} s`);
});

Deno.test("check refuses a file over 16 MiB in one line, and reads at most the limit + 1", async () => {
  await using dir = await tempDir();
  const big = `${dir.path}/big.yaml`;
  await Deno.writeFile(big, new Uint8Array(17 * 1024 * 1024).fill(0x20));
  await oneLine(
    ["--proto-only", big],
    2,
    /^wasmerang: cannot check .*big\.yaml: 17 MiB, over the 16 MiB limit for a configuration file\n$/,
  );
  assertEquals(CHECK_INPUT_LIMIT, 16 * 1024 * 1024);
  // A regular file whose size the system does not tell (0 in /proc) is
  // still cut at limit + 1 bytes.
  const error = await assertRejects(
    () => readCheckInput("/proc/self/maps", 64),
    UserError,
  );
  assertEquals(
    error.message,
    "cannot check /proc/self/maps: more than that, over the 64 bytes limit for a configuration file",
  );
  assertEquals(
    await readCheckInput(big.replace("big", "none")).catch((e) => e.message),
    `cannot read ${dir.path}/none.yaml: no such file`,
  );
});

Deno.test("binary files are not YAML or JSON text, and Envoy is not asked", async () => {
  assertEquals(binaryReason(new TextEncoder().encode("a: é\n")), undefined);
  assertEquals(
    binaryReason(new Uint8Array([0x61, 0, 0x62])),
    "a NUL byte at offset 1",
  );
  assertEquals(binaryReason(new Uint8Array([0x61, 0xff])), "not valid UTF-8");
  await using dir = await tempDir();
  const nul = `${dir.path}/nul.yaml`;
  await Deno.writeFile(
    nul,
    new Uint8Array([0x61, 0x3a, 0x20, 0x31, 0x0a, 0, 1, 2]),
  );
  const latin1 = `${dir.path}/latin1.yaml`;
  await Deno.writeFile(latin1, new Uint8Array([0x61, 0x3a, 0x20, 0xe9, 0x0a]));
  const wasm = `${dir.path}/filter.wasm`;
  await Deno.writeFile(wasm, new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  // An Envoy stand-in that logs how it was run, then runs the real one.
  const calls = `${dir.path}/calls`;
  const standIn = `${dir.path}/envoy`;
  const args = [];
  if (envoy) {
    await Deno.writeTextFile(
      standIn,
      `#!/bin/sh\necho "$@" >> '${calls}'\nexec '${envoy.path}' "$@"\n`,
    );
    await Deno.chmod(standIn, 0o755);
    args.push("--envoy", standIn);
  } else args.push("--proto-only");
  await oneLine(
    [...args, nul],
    1,
    /^wasmerang: cannot check .*nul\.yaml: not YAML or JSON text \(a NUL byte at offset 5\)\n$/,
  );
  await oneLine(
    [...args, latin1],
    1,
    /^wasmerang: cannot check .*latin1\.yaml: not YAML or JSON text \(not valid UTF-8\)\n$/,
  );
  await oneLine(
    [...args, wasm],
    1,
    /^wasmerang: cannot check .*filter\.wasm: not YAML or JSON text \(a NUL byte at offset 0\)\n$/,
  );
  if (envoy) {
    const ran = await Deno.readTextFile(calls).catch(() => "");
    assertEquals(ran.includes("--mode validate"), false, ran);
  }
});

Deno.test("a YAML alias bomb is one line, in a bootstrap and in a manifest", async () => {
  await using dir = await tempDir();
  const bootstrap = `${dir.path}/bomb.yaml`;
  await Deno.writeTextFile(bootstrap, BOMB);
  const manifest = `${dir.path}/bomb-manifest.yaml`;
  await Deno.writeTextFile(
    manifest,
    `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  ${
      BOMB.replaceAll("\n", "\n  ")
    }`,
  );
  const started = performance.now();
  for (const file of [bootstrap, manifest]) {
    await oneLine(
      [file],
      1,
      /^wasmerang: cannot check .*\.yaml: YAML aliases expand too far \(more than 1000 alias expansions\): refused as an alias bomb\n$/,
    );
  }
  const seconds = (performance.now() - started) / 1000;
  if (seconds > 30) throw new Error(`took ${seconds} s`);
});

/** A bootstrap of `count` tcp_proxy listeners: Envoy takes seconds to validate thousands. */
function manyListeners(count: number): string {
  const listeners = Array.from({ length: count }, (_, i) => ({
    name: `l${i}`,
    address: {
      socket_address: { address: "127.0.0.1", port_value: 20000 + i },
    },
    filter_chains: [{
      filters: [{
        name: "envoy.filters.network.tcp_proxy",
        typed_config: {
          "@type":
            "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
          stat_prefix: "t",
          cluster: "c",
        },
      }],
    }],
  }));
  const endpoint = {
    endpoint: {
      address: { socket_address: { address: "127.0.0.1", port_value: 1 } },
    },
  };
  return JSON.stringify({
    static_resources: {
      listeners,
      clusters: [{
        name: "c",
        type: "STATIC",
        load_assignment: {
          cluster_name: "c",
          endpoints: [{ lb_endpoints: [endpoint] }],
        },
      }],
    },
  });
}

Deno.test({
  name: "Envoy's validation timing out says timed out, not rejected",
  ignore: envoy === undefined,
  async fn() {
    await using dir = await tempDir();
    const file = `${dir.path}/many.json`;
    await Deno.writeTextFile(file, manyListeners(3000));
    const run = await runCli(["check", "--envoy", envoy!.path, file], {
      env: { WASMERANG_VALIDATE_TIMEOUT_MS: "300" },
      timeoutMs: 120_000,
    });
    const shown = run.stdout + run.stderr;
    assertEquals(run.code, 1, shown);
    assertEquals(shown.includes("rejected"), false, shown);
    assertEquals(
      run.stdout.split("\n")[0],
      `? ${file}: no errors in the proto check, but Envoy's validation timed out after 300 ms: not confirmed`,
    );
    assertEquals(
      run.stderr,
      "wasmerang: Envoy's validation of 1 of 1 file(s) timed out after 300 ms: not confirmed " +
        "(set WASMERANG_VALIDATE_TIMEOUT_MS to wait longer, or --proto-only to skip Envoy)\n",
    );
    const json = await runCli(
      ["check", "--json", "--envoy", envoy!.path, file],
      {
        env: { WASMERANG_VALIDATE_TIMEOUT_MS: "300" },
        timeoutMs: 120_000,
      },
    );
    assertEquals(JSON.parse(json.stdout).files[0].envoy[0].timedOutMs, 300);
    const bad = await runCli(["check", "--envoy", envoy!.path, file], {
      env: { WASMERANG_VALIDATE_TIMEOUT_MS: "soon" },
    });
    assertEquals([bad.code, bad.stderr], [
      2,
      "wasmerang: WASMERANG_VALIDATE_TIMEOUT_MS=soon: use a whole number of milliseconds, e.g. 30000\n",
    ]);
  },
});

Deno.test("Kubernetes manifest errors carry file:line:column, in every document", async () => {
  const example = new URL("../examples/istio-k8s/egress.yaml", import.meta.url);
  const text = (await Deno.readTextFile(example)).replaceAll(
    "replicas: 1",
    'replicas: "two"',
  );
  const lines = text.split("\n");
  const where = lines.flatMap((line, i) =>
    line.includes('replicas: "two"')
      ? [`${i + 1}:${line.indexOf("r") + 1}`]
      : []
  );
  assertEquals(where.length >= 2, true, "the example has two Deployments");
  await using dir = await tempDir();
  const file = `${dir.path}/egress.yaml`;
  await Deno.writeTextFile(file, text);
  const run = await runCli(["check", "--proto-only", file]);
  assertEquals(run.code, 1, run.stdout + run.stderr);
  const errors = run.stdout.split("\n").filter((line) =>
    line.includes(": error: ")
  );
  assertEquals(
    errors.map((line) => line.split(": error: ")[0]),
    where.map((at) => `${file}:${at}`),
  );
  for (const line of errors) {
    if (
      !/: error: Deployment egress[12]: spec\.replicas: must be integer$/.test(
        line,
      )
    ) {
      throw new Error(line);
    }
  }
});

Deno.test("parsePath reads back what formatPath writes", () => {
  for (
    const segments of [
      [],
      ["spec"],
      ["spec", "configPatches", 0, "patch", "value", "typed_config"],
      ["data", "odd key", 3, 'quote " and \\ back'],
      [0, "a"],
    ]
  ) {
    assertEquals(parsePath(formatPath(segments)), segments);
  }
  assertEquals(parsePath("a..b"), undefined);
  assertEquals(parsePath(".a"), undefined);
});
