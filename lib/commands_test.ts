import assert from "node:assert/strict";
import { Plan, runChecked, runCommand, shellQuote } from "./commands.ts";
import { UserError } from "./errors.ts";

Deno.test("shellQuote leaves plain words alone and quotes the rest", () => {
  assert.equal(
    shellQuote(["docker", "compose", "-f", "a/b.yaml", "up", "-d"]),
    "docker compose -f a/b.yaml up -d",
  );
  assert.equal(
    shellQuote(["sh", "-c", "echo it's; cat"]),
    `sh -c 'echo it'"'"'s; cat'`,
  );
  assert.equal(
    shellQuote(["--format", "{{.Client.Version}}"]),
    "--format '{{.Client.Version}}'",
  );
});

Deno.test("runCommand captures output, exit code and stdin", async () => {
  const result = await runCommand([
    "sh",
    "-c",
    "read line; echo out:$line; echo err >&2; exit 3",
  ], {
    stdin: "hello\n",
  });
  assert.equal(result.code, 3);
  assert.equal(result.stdout, "out:hello\n");
  assert.equal(result.stderr, "err\n");
  assert.equal(result.timedOut, false);
});

Deno.test("runCommand stops a command at its timeout", async () => {
  const started = performance.now();
  const result = await runCommand(["sleep", "5"], { timeoutMs: 200 });
  assert.equal(result.timedOut, true);
  assert.equal(result.code, 124);
  assert.ok(performance.now() - started < 4000);
});

Deno.test("a missing program is a one-line UserError", async () => {
  await assert.rejects(
    () => runCommand(["wasmerang-no-such-program"]),
    (error: unknown) =>
      error instanceof UserError &&
      /wasmerang-no-such-program was not found/.test(error.message),
  );
});

Deno.test("runChecked names the command and its last lines on failure", async () => {
  assert.equal(await runChecked(["sh", "-c", "echo fine"]), "fine\n");
  await assert.rejects(
    () => runChecked(["sh", "-c", "echo boom >&2; exit 7"]),
    (error: unknown) =>
      error instanceof UserError &&
      error.message.includes("`sh -c 'echo boom >&2; exit 7'` exited with 7") &&
      error.message.includes("boom"),
  );
});

Deno.test("a Plan renders its dry run and executes in order", async () => {
  const done: string[] = [];
  const plan = new Plan()
    .run("Say hello", ["sh", "-c", "true"], { cwd: "/tmp", env: { A: "b c" } })
    .task("Remember", "remember that it ran", () => {
      done.push("task");
      return Promise.resolve();
    })
    .run("Fail", ["sh", "-c", "exit 1"]);
  assert.equal(
    plan.render(),
    "(cd /tmp && A='b c' sh -c true)\n# remember that it ran\nsh -c 'exit 1'",
  );
  await assert.rejects(() => plan.execute(), UserError);
  assert.deepEqual(done, ["task"]);
});
