import assert from "node:assert/strict";
import { UserError } from "../../lib/errors.ts";
import { dockerNetwork } from "./network.ts";
import {
  parseProbeOutput,
  parseSources,
  probeCommand,
  probeScript,
} from "./probe.ts";
import { tempDir } from "../../testing/temp.ts";
import type { Decision } from "../../lib/judge.ts";

/** The filter's decision of a cluster, as the judge returns it. */
const chose = (cluster: string): Decision => ({
  source: "172.21.0.10:40000",
  cluster,
  logs: [],
});

Deno.test("parseSources: defaults, lists, and addresses that cannot be probe sources", () => {
  const network = dockerNetwork();
  assert.deepEqual(parseSources(undefined, network), [
    "172.21.0.10",
    "172.21.0.11",
    "172.21.0.12",
    "172.21.0.13",
  ]);
  assert.deepEqual(parseSources(" 172.21.0.20, 172.21.7.7 ", network), [
    "172.21.0.20",
    "172.21.7.7",
  ]);
  for (
    const bad of [
      "",
      "10.0.0.1",
      "172.21.0.1",
      "172.21.0.3",
      "172.21.0.256",
      "172.021.000.020",
      "172.21.0.20,172.21.0.20",
    ]
  ) {
    assert.throws(
      () => parseSources(bad, network),
      (error: unknown) => error instanceof UserError && error.exitCode === 2,
    );
  }
});

Deno.test("parseProbeOutput: banner, nanosecond timing, and failures", () => {
  const ok = parseProbeOutput("172.21.0.11", chose("egress2"), "egress1", {
    code: 0,
    stdout: "banner=egress2\nt0=1700000000000000000\nt1=1700000000001250000\n",
    stderr: "",
  });
  assert.deepEqual(ok, {
    source: "172.21.0.11",
    chosen: "egress2",
    expected: "egress2",
    got: "egress2",
    ok: true,
    ms: 1.25,
  });

  const wrong = parseProbeOutput("172.21.0.11", chose("egress2"), "egress1", {
    code: 0,
    stdout: "banner=egress1\n",
    stderr: "",
  });
  assert.equal(wrong.ok, false);
  assert.equal(wrong.ms, null); // no timestamps (a date without %N): not measured

  const refused = parseProbeOutput("172.21.0.10", chose("egress1"), "egress1", {
    code: 0,
    stdout: "banner=\nt0=1700000000%N\nt1=1700000000%N\n",
    stderr:
      "nc: can't connect to remote host (172.21.0.2): Connection refused\n",
  });
  assert.deepEqual(refused, {
    source: "172.21.0.10",
    chosen: "egress1",
    expected: "egress1",
    got: null,
    ok: false,
    ms: null,
    error: "nc: can't connect to remote host (172.21.0.2): Connection refused",
  });
  assert.equal(
    parseProbeOutput("172.21.0.10", chose("egress1"), "egress1", {
      code: 125,
      stdout: "",
      stderr: "",
    }).error,
    "docker run exited with 125",
  );
  assert.equal(
    parseProbeOutput("172.21.0.10", chose("egress1"), "egress1", {
      code: 125,
      stdout: "",
      stderr:
        "docker: Error response from daemon: Address already in use.\nRun 'docker run --help' for more information\n",
    }).error,
    "docker: Error response from daemon: Address already in use.",
  );
});

Deno.test("parseProbeOutput: a connection the filter leaves alone expects tcp_proxy's default cluster; a trap is never ok", () => {
  const alone = { source: "172.21.0.10:40000", cluster: null, logs: [] };
  const answered = {
    code: 0,
    stdout: "banner=egress1\n",
    stderr: "",
  };
  const result = parseProbeOutput("172.21.0.10", alone, "egress1", answered);
  assert.equal(result.chosen, null);
  assert.equal(result.expected, "egress1");
  assert.equal(result.ok, true);
  assert.equal(
    parseProbeOutput("172.21.0.10", alone, "egress2", answered).ok,
    false,
  );
  const trapped = parseProbeOutput(
    "172.21.0.10",
    {
      ...alone,
      trapped: "unreachable in proxy_on_new_connection",
    },
    "egress1",
    answered,
  );
  assert.equal(trapped.ok, false);
  assert.equal(trapped.trapped, "unreachable in proxy_on_new_connection");
});

Deno.test("probeCommand: a labelled, short-lived busybox on the compose network with the chosen IP", () => {
  assert.deepEqual(probeCommand("172.21.0.12", "172.21.0.2").slice(0, 11), [
    "docker",
    "run",
    "--rm",
    "--label",
    "io.wasmerang.probe=1",
    "--network",
    "wasmerang-docker",
    "--ip",
    "172.21.0.12",
    "busybox:1.37.0",
    "sh",
  ]);
});

const busybox = await Deno.stat("/usr/bin/busybox").then(
  () => "/usr/bin/busybox",
  () => undefined,
);

Deno.test({
  name:
    "the probe script, run by busybox, reads the banner without waiting for the connection to end",
  ignore: busybox === undefined,
  fn: async () => {
    // busybox applets in a PATH of their own, as in the busybox image.
    await using binTemp = await tempDir();
    const bin = binTemp.path;
    for (
      const applet of [
        "sh",
        "nc",
        "date",
        "mkfifo",
        "sleep",
        "rm",
        "adjtimex",
        "awk",
      ]
    ) {
      await Deno.symlink(busybox!, `${bin}/${applet}`);
    }
    // An egress: banner, then echo, and it keeps the connection open.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const open: Deno.Conn[] = [];
    const serving = (async () => {
      for await (const connection of listener) {
        open.push(connection);
        await connection.write(new TextEncoder().encode("egress2\necho\n"));
      }
    })();
    try {
      const started = performance.now();
      const output = await new Deno.Command(`${bin}/sh`, {
        args: ["-c", probeScript("127.0.0.1", listener.addr.port)],
        env: { PATH: bin },
      }).output();
      const elapsed = performance.now() - started;
      const result = parseProbeOutput(
        "172.21.0.11",
        chose("egress2"),
        "egress1",
        {
          code: output.code,
          stdout: new TextDecoder().decode(output.stdout),
          stderr: "",
        },
      );
      assert.equal(result.got, "egress2");
      assert.equal(result.ok, true);
      assert.ok(
        result.ms !== null && result.ms >= 0 && result.ms < elapsed,
        "the connection itself was timed",
      );
      assert.ok(
        elapsed < 4000,
        `the probe waited for the connection to end (${elapsed} ms)`,
      );

      // Nothing listening: no banner, no hang.
      const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = closed.addr.port;
      closed.close();
      const refused = await new Deno.Command(`${bin}/sh`, {
        args: ["-c", probeScript("127.0.0.1", port)],
        env: { PATH: bin },
      }).output();
      assert.match(new TextDecoder().decode(refused.stdout), /^banner=$/m);
    } finally {
      listener.close();
      for (const connection of open) connection.close();
      await serving.catch(() => {});
    }
  },
});
