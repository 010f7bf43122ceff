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
