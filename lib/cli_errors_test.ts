import assert from "node:assert/strict";
import { CommanderError } from "commander";
import { WasmLoadError, WasmTrapError } from "../host/mod.ts";
import { describeFailure } from "./cli_errors.ts";
import { UsageError, UserError } from "./errors.ts";

Deno.test("a user error is its own line with its exit code", () => {
  assert.deepEqual(describeFailure(new UserError("no such thing")), {
    lines: ["wasmerang: no such thing"],
    exitCode: 1,
  });
  assert.equal(describeFailure(new UsageError("bad flag")).exitCode, 2);
});

Deno.test("a file-system error on a given path is one line naming the path and a fix", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/file`;
    await Deno.writeTextFile(file, "");
    const error = await Deno.readFile(`${file}/x`).catch((e) => e);
    const report = describeFailure(error);
    assert.equal(report.exitCode, 1);
    assert.deepEqual(report.lines, [
      `wasmerang: cannot read ${file}/x: not a directory; a part of the path is a file, not a folder: choose another path`,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a module that does not load or traps is one line, exit 1", () => {
  const load = describeFailure(new WasmLoadError("missing import env.x"));
  assert.equal(load.lines.length, 1);
  assert.match(load.lines[0], /the module cannot be loaded: missing import/);
  const trap = describeFailure(
    new WasmTrapError("proxy_on_tick", 1, "unreachable"),
  );
  assert.match(trap.lines[0], /the filter trapped: proxy_on_tick trapped/);
  assert.equal(trap.exitCode, 1);
});

Deno.test("a usage error from the parser is exit 2; help is exit 0 and silent", () => {
  const usage = describeFailure(
    new CommanderError(
      1,
      "commander.unknownOption",
      "error: unknown option '--x'",
    ),
  );
  assert.deepEqual(usage, {
    lines: ["wasmerang: unknown option '--x' (see 'wasmerang --help')"],
    exitCode: 2,
  });
  assert.deepEqual(
    describeFailure(
      new CommanderError(0, "commander.helpDisplayed", "(outputHelp)"),
    ),
    { lines: [], exitCode: 0 },
  );
});

Deno.test("anything else is a bug: said so, then its trace", () => {
  const report = describeFailure(new TypeError("x is undefined"));
  assert.equal(report.exitCode, 1);
  assert.match(report.lines[0], /this is a bug in wasmerang/);
  assert.match(report.lines[1], /TypeError: x is undefined\n\s+at /);
});

Deno.test("a failure that escapes every await is reported once, without the compiler's abort noise", async () => {
  const script = `
    import asc from "assemblyscript/cli/asc";
    import { catchStrayFailures } from "./lib/cli_errors.ts";
    import { UserError } from "./lib/errors.ts";
    await asc.ready;
    catchStrayFailures();
    Promise.reject(new UserError("late and expected", 2));
    await new Promise((resolve) => setTimeout(resolve, 2000));
  `;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", script],
    cwd: new URL("../", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const stderr = new TextDecoder().decode(output.stderr).split("\n").filter(
    (line) => line !== "" && !line.startsWith("Blocking waiting"),
  );
  assert.equal(output.code, 2, stderr.join("\n"));
  assert.deepEqual(stderr, ["wasmerang: late and expected"]);
});
