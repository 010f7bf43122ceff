// Running the CLI as a user meets it, for tests: a subprocess, its exit code
// and what it prints. Kept out of any *_test.ts file so that importing it
// does not register (and run) another file's tests.

/** Runs `deno run -A cli.ts ...args` and returns exit code, stdout and stderr. */
export async function runCli(...args: string[]) {
  const command = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../cli.ts", import.meta.url).pathname,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  });
  const { code, stdout, stderr } = await command.output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code, stdout: decode(stdout), stderr: decode(stderr) };
}
