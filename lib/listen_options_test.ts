import { assertEquals, assertThrows } from "../host/testing/assert.ts";
import { UsageError } from "./errors.ts";
import { canonicalHost, parseHostPort } from "./address.ts";
import { addressesOverlap, parseListenOptions } from "./listen_options.ts";
import { parseSources } from "./loopback_probe.ts";
import { runCli } from "../testing/cli.ts";
import { tempDir } from "../testing/temp.ts";

const ENVOY = Deno.env.get("WASMERANG_ENVOY") ?? "";

/** A CLI run that must be refused in one usage line, exit 2, with nothing left behind. */
async function refused(args: string[], pattern: RegExp): Promise<void> {
  await using state = await tempDir();
  const run = await runCli(args, {
    stateDir: state.path,
    env: { WASMERANG_ENVOY: ENVOY },
    timeoutMs: 60_000,
  });
  assertEquals(run.code, 2, `${args.join(" ")}: ${run.stdout}${run.stderr}`);
  assertEquals(run.stdout, "", args.join(" "));
  const lines = run.stderr.split("\n").filter((line) => line !== "");
  assertEquals(lines.length, 1, `${args.join(" ")}: ${run.stderr}`);
  if (!pattern.test(lines[0])) {
    throw new Error(`${args.join(" ")}: ${lines[0]} does not match ${pattern}`);
  }
  assertEquals([...Deno.readDirSync(state.path)], [], "nothing recorded");
}

Deno.test("host literals: exactly the forms node:net and Deno read alike", () => {
  for (
    const text of [
      "127.000.000.010:1",
      "127.0.0.010:1",
      "127.1:1",
      "0x7f.0.0.1:1",
      "2130706433:1",
      "[fe80::1%lo]:1",
      "127.0.0.1.:1",
      "[127.0.0.1]:1",
      "127.0.0.1:65536",
      "example.com:1",
    ]
  ) {
    assertThrows(() => parseHostPort(text, "--to"), UsageError);
  }
  assertEquals(parseHostPort("127.0.0.10:1", "--to"), {
    host: "127.0.0.10",
    port: 1,
  });
  assertEquals(parseHostPort("[0:0:0:0:0:0:0:1]:2", "--to").port, 2);
  assertEquals(canonicalHost("0:0:0:0:0:0:0:1"), "::1");
  assertEquals(canonicalHost("::FFFF:127.0.0.1"), "127.0.0.1");
  const octal = assertThrows(
    () => parseHostPort("127.000.000.010:10000", "--to"),
    UsageError,
  );
  assertEquals(
    octal.message,
    '--to "127.000.000.010:10000": not an IP address in dotted-decimal form ' +
      "(four numbers 0-255 without leading zeros, e.g. 127.0.0.10) (use HOST:PORT, e.g. 127.0.0.1:10000)",
  );
});

Deno.test("--from: what node:net binds as a source, nothing else", () => {
  assertEquals(parseSources("127.0.0.10, 127.0.0.11"), [
    "127.0.0.10",
    "127.0.0.11",
  ]);
  for (const from of ["127.000.000.010", "127.1", "0x7f.0.0.1", "::1", "x"]) {
    const error = assertThrows(() => parseSources(from), UsageError);
    assertEquals(error.exitCode, 2);
  }
});

Deno.test("clashing addresses are found before start", () => {
  assertEquals(addressesOverlap("0.0.0.0", "127.0.0.1"), true);
  assertEquals(addressesOverlap("0.0.0.0", "::1"), false);
  assertEquals(addressesOverlap("::", "127.0.0.1"), true);
  assertEquals(addressesOverlap("::ffff:127.0.0.1", "127.0.0.1"), true);
  assertEquals(addressesOverlap("127.0.0.1", "127.0.0.2"), false);
  const clash = assertThrows(
    () =>
      parseListenOptions({
        listen: "127.0.0.1:10000",
        admin: "127.0.0.1:9901",
        egress1: "localhost:10000",
      }),
    UsageError,
  );
  assertEquals(
    clash.message,
    "--listen and --egress1 both name 127.0.0.1:10000: give each its own port",
  );
  // Port 0 asks for a free port: never a clash.
  assertEquals(
    parseListenOptions({ listen: "127.0.0.1:0", admin: "127.0.0.1:0" }).admin,
    { host: "127.0.0.1", port: 0 },
  );
});

Deno.test("probe local/envoy --from 127.000.000.010: one usage line, exit 2", async () => {
  for (const mode of ["local", "envoy"]) {
    await refused(
      ["probe", mode, "--from", "127.000.000.010"],
      /^wasmerang: --from 127\.000\.000\.010: not an IPv4 address in dotted-decimal form/,
    );
  }
  await refused(
    ["probe", "local", "--to", "127.0.0.010:10000"],
    /^wasmerang: --to "127\.0\.0\.010:10000": not an IP address in dotted-decimal form/,
  );
});

Deno.test("up envoy --listen [::1]:0 is refused up front, as up local refuses it", async () => {
  for (const mode of ["local", "envoy"]) {
    await refused(
      ["up", mode, "--listen", "[::1]:0"],
      /^wasmerang: --listen \[::1\]:0: the probe connects from IPv4 loopback sources .*must listen on IPv4/,
    );
  }
});

Deno.test("clashing addresses: one usage line before anything starts, local and envoy", async () => {
  const cases: [string[], RegExp][] = [
    [
      ["--listen", "127.0.0.1:23456", "--egress1", "127.0.0.1:23456"],
      /--listen and --egress1 both name 127\.0\.0\.1:23456/,
    ],
    [
      ["--egress1", "127.0.0.1:23457", "--egress2", "localhost:23457"],
      /--egress1 and --egress2 both name 127\.0\.0\.1:23457/,
    ],
    [
      ["--listen", "0.0.0.0:23458", "--egress2", "127.0.0.5:23458"],
      /--listen 0\.0\.0\.0:23458 and --egress2 127\.0\.0\.5:23458 overlap/,
    ],
  ];
  for (const mode of ["local", "envoy"]) {
    for (const [flags, pattern] of cases) {
      await refused(["up", mode, ...flags], pattern);
    }
  }
  await refused(
    [
      "up",
      "envoy",
      "--listen",
      "127.0.0.1:23459",
      "--admin",
      "127.0.0.1:23459",
    ],
    /--listen and --admin both name 127\.0\.0\.1:23459/,
  );
  await refused(
    ["up", "envoy", "--admin", "[::1]:23460", "--egress1", "[0:0::1]:23460"],
    /--admin and --egress1 both name \[::1\]:23460/,
  );
});
