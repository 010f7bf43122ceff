// Stand-in external programs for tests: shell scripts on a PATH of their own
// that print what the real tools print and record how they were called.
// Kept out of any *_test.ts file so that importing it does not register
// another file's tests.

/** Writes each of `scripts` (name → /bin/sh body) into `dir` as an executable. */
export async function writeStandIns(
  dir: string,
  scripts: Record<string, string>,
): Promise<void> {
  for (const [name, body] of Object.entries(scripts)) {
    const file = `${dir}/${name}`;
    await Deno.writeTextFile(file, `#!/bin/sh\n${body}\n`);
    await Deno.chmod(file, 0o755);
  }
}

/**
 * How the stand-in docker behaves. It stands in only for what a real engine
 * cannot show here: the CLI without an engine or without Compose, and a
 * record of calls proving a command never ran. It runs no containers.
 */
export interface FakeDockerBehaviour {
  /** `docker compose version` works (default true). */
  compose?: boolean;
  /** `docker info` reaches an engine (default true). */
  engine?: boolean;
}

/**
 * Writes stand-in programs into a new directory and returns it (use it as
 * PATH) with the file where docker records its calls, one per line.
 * `await using` removes the directory.
 */
export async function fakeTools(
  tools: ("docker" | "kind" | "kubectl" | "istioctl")[],
  behaviour: FakeDockerBehaviour = {},
): Promise<{ dir: string; calls: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "wasmerang-fake-tools-" });
  const calls = `${dir}/docker-calls.log`;
  const write = (name: string, body: string) =>
    writeStandIns(dir, { [name]: body });
  if (tools.includes("docker")) {
    await write(
      "docker",
      `echo "$*" >> '${calls}'
case "$1" in
  --version) echo "Docker version 27.3.1, build ce12230"; exit 0 ;;
  info) ${
        behaviour.engine === false
          ? 'echo "Cannot connect to the Docker daemon" >&2; exit 1'
          : 'echo "27.3.1"; exit 0'
      } ;;
  compose)
    shift
    [ "$1" = "version" ] && { ${
        behaviour.compose === false
          ? "echo \"docker: 'compose' is not a docker command.\" >&2; exit 1"
          : 'echo "Docker Compose version v2.29.7"; exit 0'
      }; }
    exit 0 ;;
esac
exit 0`,
    );
  }
  if (tools.includes("kind")) {
    await write("kind", 'echo "kind v0.32.0 go1.24.4 linux/amd64"');
  }
  if (tools.includes("kubectl")) {
    await write(
      "kubectl",
      'echo "Client Version: v1.36.1"; echo "Kustomize Version: v5.7.1"',
    );
  }
  if (tools.includes("istioctl")) await write("istioctl", 'echo "1.31.1"');
  return {
    dir,
    calls,
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
