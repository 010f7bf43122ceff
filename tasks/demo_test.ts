import assert from "node:assert/strict";

Deno.test("deno task demo: every probe matches, the access log is shown, exit 0", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./demo.ts", import.meta.url).pathname],
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  assert.match(stdout, /✓ 8 of 8 connections answered by the expected egress/);
  assert.equal(
    stdout.match(/cluster=egress[12] src=127\.0\.0\.1[0-7]:/g)?.length,
    8,
  );
  assert.match(stderr, /✓ Stopping everything/);
});
