import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "../../testing/cli.ts";
import { readScaffoldSettings } from "./settings.ts";

/** Runs the CLI; `output` is stdout then stderr. */
async function cli(...args: string[]) {
  const { code, stdout, stderr } = await runCli(args);
  return { code, output: stdout + stderr };
}

Deno.test("the CLI wires scaffold istio and up istio --dry-run with their options", async () => {
  const dir = join(await Deno.makeTempDir(), "y");
  try {
    const scaffolded = await cli(
      "scaffold",
      "istio",
      "--dir",
      dir,
      "--namespace",
      "demo",
      "--cluster-name",
      "lab",
      "--http-override",
      "--api",
      "envoyfilter",
      "--cluster",
      "alpha",
      "--cluster",
      "beta",
    );
    assert.equal(scaffolded.code, 0, scaffolded.output);
    assert.deepEqual(await readScaffoldSettings(dir), {
      api: "envoyfilter",
      namespace: "demo",
      clusterName: "lab",
      httpOverride: true,
      clusters: ["alpha", "beta"],
    });
    const again = await cli("scaffold", "istio", "--dir", dir);
    assert.equal(again.code, 1);
    assert.match(again.output, /^wasmerang: refusing to (overwrite|leave)/m);

    const plan = await cli("up", "istio", "--dir", dir, "--dry-run");
    assert.equal(plan.code, 0, plan.output);
    assert.match(
      plan.output,
      /istioctl install -y --context kind-lab --set profile=minimal/,
    );
    assert.match(
      plan.output,
      /-n demo rollout status deployment\/wasmerang-client/,
    );
    assert.match(plan.output, /-n demo rollout status deployment\/alpha /);
    assert.doesNotMatch(plan.output, /deployment\/egress1/);

    // up does not rewrite the folder: other names are refused in one line.
    const otherNames = await cli(
      "up",
      "istio",
      "--dir",
      dir,
      "--dry-run",
      "--cluster",
      "gamma",
    );
    assert.equal(otherNames.code, 2, otherNames.output);
    assert.match(
      otherNames.output,
      /^wasmerang: \S+ holds the example with egresses alpha, beta, not what --cluster asks: .*--force/m,
    );

    for (
      const [name, why] of [
        ["Alpha", /must be a DNS label: lowercase letters/],
        ["a.b", /must be a DNS label/],
        ["x".repeat(64), /at most 63 characters/],
        ["egress", /taken by the Service the client connects to/],
        ["wasmerang-client", /taken by the client Deployment/],
      ] as const
    ) {
      const refused = await cli(
        "scaffold",
        "istio",
        "--dir",
        `${dir}-bad`,
        "--cluster",
        name,
      );
      assert.equal(refused.code, 2, refused.output);
      assert.match(refused.output, why);
      assert.equal(refused.output.trim().split("\n").length, 1);
    }
    assert.match(
      plan.output,
      /# the filter is installed with an EnvoyFilter \(envoyfilter\.yaml\)/,
    );
    assert.match(
      plan.output,
      /-f \S+envoyfilter\.yaml -f \S+http-override\.yaml/,
    );

    const badApi = await cli(
      "scaffold",
      "istio",
      "--dir",
      dir,
      "--api",
      "mesh",
    );
    assert.equal(badApi.code, 2);
    assert.match(
      badApi.output,
      /invalid --api "mesh": use wasmplugin or envoyfilter/,
    );

    const bad = await cli("probe", "istio", "--dir", dir, "--port", "http");
    assert.equal(bad.code, 2);
    assert.match(bad.output, /--port "http": not a whole number/);
  } finally {
    await Deno.remove(join(dir, ".."), { recursive: true });
  }
});
