/**
 * The Docker example: golden files, the compose file's shape, options.
 *
 * examples/envoy-docker/ is exactly what `wasmerang scaffold docker` writes.
 * When the filter or the templates change, refresh it with:
 *
 *   deno run -A cli.ts scaffold docker --dir examples/envoy-docker --force
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { checkEnvoyBootstrap } from "../../checker/envoy_check.ts";
import { UserError } from "../../lib/errors.ts";
import { embeddedFilter } from "../../lib/filter_module.ts";
import { dockerNetwork } from "./network.ts";
import { DOCKER_FILES, dockerScaffoldFiles } from "./scaffold.ts";
import { ENVOY_ACCESS_LOG_FORMAT } from "./templates.ts";
import {
  SIDES_RULE,
  writeFilterProject,
} from "../../testing/filter_project.ts";
import { judgeSources, moduleSha256 } from "../../lib/judge.ts";
import { exists } from "../../lib/files.ts";
import { runCli } from "../../testing/cli.ts";
import { tempDir } from "../../testing/temp.ts";
import { readDockerExample } from "./compose.ts";

const EXAMPLE = new URL("../../examples/envoy-docker/", import.meta.url);
const REFRESH =
  "deno run -A cli.ts scaffold docker --dir examples/envoy-docker --force";

function text(content: string | Uint8Array): string {
  return typeof content === "string"
    ? content
    : new TextDecoder().decode(content);
}

Deno.test("examples/envoy-docker/ is exactly what scaffold docker writes", async () => {
  const files = dockerScaffoldFiles({ wasm: embeddedFilter() });
  assert.deepEqual(files.map((file) => file.path), [...DOCKER_FILES]);
  const committed = [];
  for await (const entry of Deno.readDir(EXAMPLE)) committed.push(entry.name);
  assert.deepEqual(
    committed.sort(),
    [...DOCKER_FILES].sort(),
    `extra or missing files; refresh with: ${REFRESH}`,
  );
  for (const file of files) {
    const onDisk = await Deno.readFile(new URL(file.path, EXAMPLE));
    const expected = typeof file.content === "string"
      ? new TextEncoder().encode(file.content)
      : file.content;
    assert.ok(
      onDisk.length === expected.length &&
        onDisk.every((byte, index) => byte === expected[index]),
      `examples/envoy-docker/${file.path} differs from the scaffold; refresh with: ${REFRESH}`,
    );
  }
});

Deno.test("the compose file: Envoy with the .wasm read-only, loopback-only ports, fixed subnet and addresses", () => {
  const files = dockerScaffoldFiles({ wasm: embeddedFilter() });
  const compose = parse(text(files[0].content));
  const envoy = compose.services.envoy;
  assert.equal(compose.name, "wasmerang");
  assert.equal(envoy.image, "envoyproxy/envoy:v1.40.0");
  assert.deepEqual(envoy.volumes, [
    "./envoy.yaml:/etc/envoy/envoy.yaml:ro",
    "./wasmerang.wasm:/etc/envoy/wasmerang.wasm:ro",
  ]);
  assert.deepEqual(envoy.ports, [
    "127.0.0.1:10000:10000",
    "127.0.0.1:9901:9901",
  ]);
  for (
    const service of Object.values(compose.services) as Record<
      string,
      unknown
    >[]
  ) {
    for (const port of (service.ports as string[] | undefined) ?? []) {
      assert.match(port, /^127\.0\.0\.1:/);
    }
  }
  assert.deepEqual(compose.networks.wasmerang, {
    name: "wasmerang-docker",
    ipam: { config: [{ subnet: "172.21.0.0/16" }] },
  });
  assert.equal(envoy.networks.wasmerang.ipv4_address, "172.21.0.2");
  for (
    const [name, ip] of [["egress1", "172.21.0.3"], ["egress2", "172.21.0.4"]]
  ) {
    const egress = compose.services[name];
    assert.equal(egress.networks.wasmerang.ipv4_address, ip);
    assert.deepEqual(egress.command, [
      "tcpsvd",
      "-v",
      "0.0.0.0",
      "9000",
      "sh",
      "-c",
      `echo ${name}; exec cat`,
    ]);
  }
});

Deno.test("envoy.yaml: wasm filter then tcp_proxy, v8, standalone, root id, access log of the local mode", () => {
  const files = dockerScaffoldFiles({ wasm: embeddedFilter() });
  const envoyText = text(files[1].content);
  assert.deepEqual(checkEnvoyBootstrap(envoyText), []);
  const envoy = parse(envoyText);
  const [wasm, tcp] =
    envoy.static_resources.listeners[0].filter_chains[0].filters;
  assert.equal(wasm.name, "envoy.filters.network.wasm");
  assert.equal(tcp.name, "envoy.filters.network.tcp_proxy");
  assert.equal(wasm.typed_config.config.root_id, "wasmerang");
  assert.equal(
    wasm.typed_config.config.vm_config.runtime,
    "envoy.wasm.runtime.v8",
  );
  assert.deepEqual(wasm.typed_config.config.configuration, {
    "@type": "type.googleapis.com/google.protobuf.StringValue",
    value: "standalone",
  });
  assert.equal(tcp.typed_config.cluster, "egress1");
  assert.equal(
    tcp.typed_config.access_log[0].typed_config.log_format.text_format_source
      .inline_string,
    ENVOY_ACCESS_LOG_FORMAT,
  );
  assert.deepEqual(
    envoy.static_resources.clusters.map((cluster: { name: string }) =>
      cluster.name
    ),
    [
      "egress1",
      "egress2",
    ],
  );
  assert.equal(files[2].content, embeddedFilter());
});

Deno.test("--subnet and --envoy-image change the compose file and README, and are checked", () => {
  const files = dockerScaffoldFiles({
    wasm: embeddedFilter(),
    subnet: "10.99.0.0/24",
    envoyImage: "envoyproxy/envoy:v1.36.2",
  });
  const compose = parse(text(files[0].content));
  assert.equal(compose.services.envoy.image, "envoyproxy/envoy:v1.36.2");
  assert.equal(
    compose.networks.wasmerang.ipam.config[0].subnet,
    "10.99.0.0/24",
  );
  assert.equal(
    compose.services.egress2.networks.wasmerang.ipv4_address,
    "10.99.0.4",
  );
  assert.match(text(files[3].content), /--ip 10\.99\.0\.10 /);
  assert.throws(
    () =>
      dockerScaffoldFiles({ wasm: embeddedFilter(), subnet: "10.99.0.1/24" }),
    /host bits are set/,
  );
  assert.throws(
    () =>
      dockerScaffoldFiles({ wasm: embeddedFilter(), subnet: "10.99.0.0/30" }),
    UserError,
  );
  assert.throws(
    () =>
      dockerScaffoldFiles({
        wasm: embeddedFilter(),
        envoyImage: "envoy; rm -rf /",
      }),
    UserError,
  );
});

Deno.test("dockerNetwork derives the addresses and knows what is inside", () => {
  const network = dockerNetwork("172.21.0.0/16");
  assert.deepEqual(
    [
      network.gateway,
      network.envoy,
      ...network.egresses,
      network.probeSources,
    ],
    ["172.21.0.1", "172.21.0.2", "172.21.0.3", "172.21.0.4", [
      "172.21.0.10",
      "172.21.0.11",
      "172.21.0.12",
      "172.21.0.13",
    ]],
  );
  assert.ok(network.contains("172.21.255.254"));
  assert.ok(!network.contains("172.22.0.1"));
  assert.ok(!network.contains("172.21.0"));
  assert.ok(network.reserved.includes("172.21.255.255"));
});

Deno.test("--cluster names: one egress service answering with its name and one STRICT_DNS cluster each, the first the default, the flagship configured for them", () => {
  const files = dockerScaffoldFiles({
    wasm: embeddedFilter(),
    clusters: ["alpha", "beta", "gamma"],
  });
  const compose = parse(text(files[0].content));
  assert.deepEqual(Object.keys(compose.services), [
    "envoy",
    "alpha",
    "beta",
    "gamma",
  ]);
  assert.deepEqual(compose.services.envoy.depends_on, [
    "alpha",
    "beta",
    "gamma",
  ]);
  assert.deepEqual(
    ["alpha", "beta", "gamma"].map((name) => [
      compose.services[name].command.at(-1),
      compose.services[name].networks.wasmerang.ipv4_address,
    ]),
    [
      ["echo alpha; exec cat", "172.21.0.3"],
      ["echo beta; exec cat", "172.21.0.4"],
      ["echo gamma; exec cat", "172.21.0.5"],
    ],
  );
  const envoyText = text(files[1].content);
  assert.deepEqual(checkEnvoyBootstrap(envoyText), []);
  const envoy = parse(envoyText);
  const [wasm, tcp] =
    envoy.static_resources.listeners[0].filter_chains[0].filters;
  assert.equal(
    wasm.typed_config.config.configuration.value,
    '{"clusters":["alpha","beta"]}',
  );
  assert.equal(tcp.typed_config.cluster, "alpha");
  assert.deepEqual(
    envoy.static_resources.clusters.map((
      cluster: {
        name: string;
        type: string;
        load_assignment: {
          endpoints: {
            lb_endpoints: {
              endpoint: { address: { socket_address: { address: string } } };
            }[];
          }[];
        };
      },
    ) => [
      cluster.name,
      cluster.type,
      cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address
        .socket_address.address,
    ]),
    [
      ["alpha", "STRICT_DNS", "alpha"],
      ["beta", "STRICT_DNS", "beta"],
      ["gamma", "STRICT_DNS", "gamma"],
    ],
  );
  const readme = text(files[3].content);
  assert.match(
    readme,
    /An even last octet sends it to\n {2}`alpha`, an odd one to `beta`/,
  );
  assert.match(
    readme,
    /alpha 172\.21\.0\.3, beta 172\.21\.0\.4, gamma 172\.21\.0\.5/,
  );
  assert.doesNotMatch(
    text(files[0].content) + envoyText + readme,
    /egress1|egress2/,
  );

  // --config is the filter's configuration as given; the README then tells no parity story.
  const own = dockerScaffoldFiles({
    wasm: embeddedFilter(),
    clusters: ["alpha", "beta"],
    configuration: '{"clusters":["beta","alpha"]}',
  });
  assert.equal(
    parse(text(own[1].content)).static_resources.listeners[0].filter_chains[0]
      .filters[0].typed_config.config.configuration.value,
    '{"clusters":["beta","alpha"]}',
  );
  assert.doesNotMatch(text(own[3].content), /even last octet/);

  // Names that YAML would read as something else stay strings.
  const tricky = dockerScaffoldFiles({
    wasm: embeddedFilter(),
    clusters: ["on", "null", "y"],
  });
  assert.deepEqual(
    Object.keys(parse(text(tricky[0].content)).services),
    ["envoy", "on", "null", "y"],
  );
  assert.deepEqual(
    parse(text(tricky[1].content)).static_resources.clusters.map((
      cluster: { name: unknown },
    ) => cluster.name),
    ["on", "null", "y"],
  );
});

Deno.test("--cluster names are DNS labels, Envoy's service name is taken, none twice, and they must fit the subnet", () => {
  const refused = (clusters: string[], pattern: RegExp, subnet?: string) =>
    assert.throws(
      () => dockerScaffoldFiles({ wasm: embeddedFilter(), clusters, subnet }),
      (error: unknown) =>
        error instanceof UserError && error.exitCode === 2 &&
        !error.message.includes("\n") && pattern.test(error.message),
    );
  const rule = /must be a DNS label: lowercase letters, digits and "-"/;
  for (
    const name of [
      "Alpha",
      "a_b",
      "a.b",
      "1abc",
      "a-",
      "",
      "a b",
      "a;reboot",
      "$(id)",
      "a\nb",
      "x".repeat(64),
    ]
  ) refused([name], rule);
  refused(
    ["envoy"],
    /"envoy": that name is taken by Envoy's own Compose service/,
  );
  refused(["alpha", "alpha"], /"alpha" is given twice/);
  refused(
    Array.from({ length: 25 }, (_, i) => `c${i}`),
    /25 clusters do not fit in --subnet 10\.0\.0\.0\/27: it has room for 24/,
    "10.0.0.0/27",
  );
  const network = dockerNetwork("10.0.0.0/27", 24);
  assert.deepEqual(network.egresses.slice(5, 9), [
    "10.0.0.8",
    "10.0.0.9",
    "10.0.0.14",
    "10.0.0.15",
  ]);
  assert.equal(network.egresses.at(-1), "10.0.0.30");
  assert.ok(network.reserved.includes("10.0.0.30"));
  assert.ok(!network.egresses.some((ip) => network.probeSources.includes(ip)));
});

Deno.test("scaffold|up docker --filter DIR: the project's module and root id in the folder, judged by them; the usage mistakes; a dry run writes nothing", async (t) => {
  const ROOT = "side-router";
  await using temp = await tempDir();
  const project = `${temp.path}/sides`;
  await writeFilterProject(project, ROOT, SIDES_RULE);
  const output = `${project}/build/filter.wasm`;
  const dir = `${temp.path}/example`;
  const clusters = [
    "--cluster",
    "rest",
    "--cluster",
    "even-side",
    "--cluster",
    "odd-side",
  ];
  const sha = async (file: string) => moduleSha256(await Deno.readFile(file));
  const oneLine = (run: { code: number; stderr: string }, code: number) => {
    assert.equal(run.code, code, run.stderr);
    const lines = run.stderr.trim().split("\n");
    assert.equal(lines.length, 1, run.stderr);
    return lines[0];
  };

  await t.step(
    "scaffold docker --filter builds the project once and ships its module under its root id",
    async () => {
      const run = await runCli([
        "scaffold",
        "docker",
        "--dir",
        dir,
        "--filter",
        project,
        ...clusters,
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /Building the filter project .*is missing/);
      assert.equal(await sha(`${dir}/wasmerang.wasm`), await sha(output));
      const envoy = parse(await Deno.readTextFile(`${dir}/envoy.yaml`));
      const config = envoy.static_resources.listeners[0].filter_chains[0]
        .filters[0].typed_config.config;
      assert.deepEqual(
        [config.name, config.root_id, config.vm_config.vm_id],
        [ROOT, ROOT, ROOT],
      );
      assert.match(
        await Deno.readTextFile(`${dir}/README.md`),
        new RegExp(`root id \`${ROOT}\``),
      );
      // What probe docker judges by: the folder's module under envoy.yaml's root id.
      const example = await readDockerExample(dir);
      assert.equal(example.rootId, ROOT);
      const decisions = await judgeSources(
        {
          wasm: await Deno.readFile(example.wasmFile),
          rootId: example.rootId,
          configuration: example.filterConfiguration,
        },
        example.network.probeSources.slice(0, 2),
        "172.21.0.2:10000",
      );
      assert.deepEqual(
        [...decisions.values()].map((decision) => decision.cluster),
        ["even-side", "odd-side"],
      );
      // Again: the module is fresh, nothing is built and nothing changes.
      const again = await runCli([
        "scaffold",
        "docker",
        "--dir",
        dir,
        "--filter",
        project,
        ...clusters,
      ]);
      assert.equal(again.code, 0, again.stderr);
      assert.doesNotMatch(again.stderr, /Building/);
      assert.doesNotMatch(again.stdout, /replaced|created/);
    },
  );

  await t.step(
    "up docker --dry-run on that folder: its module under its root id; another root id is refused",
    async () => {
      const plain = await runCli(["up", "docker", "--dry-run", "--dir", dir]);
      assert.equal(plain.code, 0, plain.stderr);
      assert.match(plain.stdout, /existing files are used as they are/);
      const named = await runCli([
        "up",
        "docker",
        "--dry-run",
        "--dir",
        dir,
        "--filter",
        project,
      ]);
      assert.equal(named.code, 0, named.stderr);
      assert.match(
        named.stdout,
        new RegExp(
          `^# filter .*filter\\.wasm \\(sha256 [0-9a-f]{12}…\\), root id ${ROOT},`,
          "m",
        ),
      );
      assert.match(
        oneLine(
          await runCli([
            "up",
            "docker",
            "--dry-run",
            "--dir",
            dir,
            "--root-id",
            "wasmerang",
          ]),
          2,
        ),
        new RegExp(
          `envoy\\.yaml runs the filter under root id "${ROOT}", not "wasmerang" \\(--root-id\\): rewrite the folder with 'wasmerang scaffold docker --dir .* --force'`,
        ),
      );
    },
  );

  await t.step(
    "usage mistakes and a root id the module does not register: one line, nothing written",
    async () => {
      const elsewhere = `${temp.path}/elsewhere`;
      for (
        const command of [["scaffold", "docker"], ["up", "docker", "--dry-run"]]
      ) {
        assert.match(
          oneLine(
            await runCli([
              ...command,
              "--dir",
              elsewhere,
              "--filter",
              project,
              "--wasm",
              output,
            ]),
            2,
          ),
          /^wasmerang: --filter and --wasm both name the module: give one/,
        );
      }
      assert.match(
        oneLine(
          await runCli([
            "scaffold",
            "docker",
            "--dir",
            elsewhere,
            "--filter",
            project,
            "--root-id",
            "not-ours",
          ]),
          1,
        ),
        /^wasmerang: refusing to ship .*filter\.wasm: the filter registers no root context named "not-ours"/,
      );
      assert.match(
        oneLine(
          await runCli([
            "scaffold",
            "docker",
            "--dir",
            elsewhere,
            "--filter",
            temp.path,
          ]),
          2,
        ),
        /--filter .*: not a filter project/,
      );
      assert.equal(await exists(elsewhere), false);
    },
  );

  await t.step(
    "up docker --dry-run with a stale project: compiled in memory, nothing written",
    async () => {
      const built = (await Deno.stat(output)).mtime?.getTime();
      const later = new Date((built ?? 0) + 60_000);
      await Deno.utime(`${project}/assembly/decide.ts`, later, later);
      const fresh = `${temp.path}/fresh`;
      const run = await runCli([
        "up",
        "docker",
        "--dry-run",
        "--dir",
        fresh,
        "--filter",
        project,
        ...clusters,
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /Compiling \(in memory, for the dry run\)/);
      assert.match(run.stdout, new RegExp(`root id ${ROOT},`));
      assert.match(run.stdout, /# write the example/);
      assert.equal(await exists(fresh), false);
      assert.equal((await Deno.stat(output)).mtime?.getTime(), built);
    },
  );
});
