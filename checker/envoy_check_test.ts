import assert from "node:assert/strict";
import { envoyYaml } from "../environments/docker/templates.ts";
import {
  checkEnvoyBootstrap,
  checkEnvoyMessage,
  type CheckIssue,
  formatPath,
  renderIssues,
} from "./envoy_check.ts";
import { ENVOY_API_GENERATOR_SHA256 } from "./envoy_api.generated.ts";

const WASM_FILTER =
  "static_resources.listeners[0].filter_chains[0].filters[0].typed_config";
const TCP_PROXY =
  "static_resources.listeners[0].filter_chains[0].filters[1].typed_config";

function errors(issues: CheckIssue[]): CheckIssue[] {
  return issues.filter((issue) => issue.severity === "error");
}

/** Replaces exactly one occurrence, so a test cannot silently check the unbroken file. */
function breakOnce(text: string, from: string, to: string): string {
  assert.equal(text.split(from).length, 2, `expected exactly one "${from}"`);
  return text.replace(from, to);
}

/** SHA-256 (hex) of a text, line endings normalised, as the generator records it. */
async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(text.replaceAll("\r\n", "\n")),
  );
  return [...new Uint8Array(digest)]
    .map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

// The generator is not imported: it pulls npm @grpc/grpc-js-xds, which the
// project does not install. `deno task envoy-api --check` regenerates and
// compares in full; this test catches a generator changed without it.
Deno.test("the committed Envoy API descriptor comes from the generator as it is", async () => {
  const generator = await Deno.readTextFile(
    new URL("./envoy_api_generate.ts", import.meta.url),
  );
  assert.equal(
    ENVOY_API_GENERATOR_SHA256,
    await sha256(generator),
    "checker/envoy_api.generated.ts is stale: run `deno task envoy-api`",
  );
});

Deno.test("the Docker scaffold's envoy.yaml passes with no error and no warning", () => {
  assert.deepEqual(checkEnvoyBootstrap(envoyYaml()), []);
});

Deno.test("a bad wasm runtime is an error at its YAML path and line", () => {
  const text = breakOnce(
    envoyYaml(),
    "runtime: envoy.wasm.runtime.v8",
    "runtime: envoy.wasm.runtime.v9",
  );
  const found = errors(checkEnvoyBootstrap(text));
  assert.equal(found.length, 1);
  assert.equal(found[0].path, `${WASM_FILTER}.config.vm_config.runtime`);
  assert.match(
    found[0].message,
    /unknown Wasm runtime "envoy.wasm.runtime.v9"/,
  );
  const line =
    text.split("\n").findIndex((candidate) =>
      candidate.includes("runtime.v9")
    ) + 1;
  assert.equal(found[0].line, line);
});

Deno.test("unknown fields, wrong types, bad enums and bad numbers are errors with paths", () => {
  let text = envoyYaml();
  text = breakOnce(text, "vm_id: wasmerang", "vm_idd: wasmerang");
  text = breakOnce(text, "stat_prefix: wasmerang", "stat_prefix: 42");
  text = text.replace("type: STRICT_DNS", "type: STRICTDNS");
  text = breakOnce(text, "port_value: 9901", "port_value: 70000");
  text = text.replace("connect_timeout: 1s", "connect_timeout: 1");
  const found = errors(checkEnvoyBootstrap(text)).map((
    issue,
  ) => [issue.path, issue.message]);
  assert.deepEqual(found, [
    [
      "admin.address.socket_address.port_value",
      "70000 must be at most 65535",
    ],
    [
      `${WASM_FILTER}.config.vm_config.vm_idd`,
      'unknown field "vm_idd" in envoy.extensions.wasm.v3.VmConfig (did you mean "vm_id"?)',
    ],
    [`${TCP_PROXY}.stat_prefix`, "expected a string, got number 42"],
    [
      "static_resources.clusters[0].type",
      '"STRICTDNS" is not a value of envoy.config.cluster.v3.Cluster.DiscoveryType ' +
      "(expected one of STATIC, STRICT_DNS, LOGICAL_DNS, EDS, ORIGINAL_DST)",
    ],
    [
      "static_resources.clusters[0].connect_timeout",
      'expected a duration like "1s" or "0.25s", got number 1',
    ],
  ]);
});

Deno.test("@type URLs resolve recursively, including the wasm configuration StringValue", () => {
  const text = breakOnce(
    envoyYaml(),
    "type.googleapis.com/google.protobuf.StringValue",
    "type.googleapis.com/google.protobuf.StringValu",
  );
  const found = errors(checkEnvoyBootstrap(text));
  assert.equal(found.length, 1);
  assert.equal(found[0].path, `${WASM_FILTER}.config.configuration["@type"]`);
  assert.match(
    found[0].message,
    /unknown type URL "type.googleapis.com\/google.protobuf.StringValu"/,
  );

  const access = breakOnce(
    envoyYaml(),
    "StdoutAccessLog",
    "StdoutAccessLogger",
  );
  assert.equal(
    errors(checkEnvoyBootstrap(access))[0].path,
    `${TCP_PROXY}.access_log[0].typed_config["@type"]`,
  );
  const inner = breakOnce(envoyYaml(), "inline_string:", "inline_strin:");
  assert.equal(
    errors(checkEnvoyBootstrap(inner))[0].path,
    `${TCP_PROXY}.access_log[0].typed_config.log_format.text_format_source.inline_strin`,
  );
});

Deno.test("required fields, oneofs, terminal filters and the filter's own configuration", () => {
  const noPort = breakOnce(
    envoyYaml(),
    "{ address: egress1, port_value: 9000 }",
    "{ address: egress1 }",
  );
  assert.deepEqual(
    errors(checkEnvoyBootstrap(noPort)).map((issue) => issue.message),
    [
      "envoy.config.core.v3.SocketAddress needs one of port_value, named_port",
    ],
  );

  const noPrefix = breakOnce(
    envoyYaml(),
    "                stat_prefix: wasmerang\n",
    "",
  );
  assert.deepEqual(
    errors(checkEnvoyBootstrap(noPrefix)).map((
      issue,
    ) => [issue.path, issue.message]),
    [
      [
        TCP_PROXY,
        'missing required field "stat_prefix" in envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
      ],
    ],
  );

  const chain = envoyYaml();
  const wasmStart = chain.indexOf(
    "            - name: envoy.filters.network.wasm",
  );
  const tcpStart = chain.indexOf("            # 2. tcp_proxy");
  const clustersStart = chain.indexOf("\n  clusters:");
  const swapped = chain.slice(0, wasmStart) +
    chain.slice(tcpStart, clustersStart) + "\n" +
    chain.slice(wasmStart, tcpStart) + chain.slice(clustersStart + 1);
  const terminal = errors(checkEnvoyBootstrap(swapped));
  assert.equal(terminal.length, 1);
  assert.equal(
    terminal[0].path,
    "static_resources.listeners[0].filter_chains[0].filters[0]",
  );
  assert.match(
    terminal[0].message,
    /terminal filter envoy.filters.network.tcp_proxy must be the last/,
  );

  const badConfig = breakOnce(
    envoyYaml(),
    "value: standalone",
    'value: \'{"clusters": ["a"]}\'',
  );
  assert.deepEqual(
    errors(checkEnvoyBootstrap(badConfig)).map((
      issue,
    ) => [issue.path, issue.message]),
    [
      [
        `${WASM_FILTER}.config.configuration.value`,
        'invalid configuration: "clusters" must be two non-empty strings',
      ],
    ],
  );
});

Deno.test("warnings: a tcp_proxy cluster that is not defined", () => {
  const text = breakOnce(
    envoyYaml(),
    "cluster: egress1\n",
    "cluster: egress3\n",
  );
  assert.deepEqual(
    checkEnvoyBootstrap(text).map((
      issue,
    ) => [issue.severity, issue.path, issue.message]),
    [
      [
        "warning",
        `${TCP_PROXY}.cluster`,
        'cluster "egress3" is not defined in static_resources.clusters',
      ],
    ],
  );
});

Deno.test("lowerCamelCase names are accepted as Envoy does; a field given twice is not", () => {
  const camel = envoyYaml().replace("stat_prefix:", "statPrefix:").replace(
    "connect_timeout:",
    "connectTimeout:",
  );
  assert.deepEqual(checkEnvoyBootstrap(camel), []);
  const twice = breakOnce(
    envoyYaml(),
    "stat_prefix: wasmerang\n",
    "stat_prefix: wasmerang\n                statPrefix: w\n",
  );
  assert.match(errors(checkEnvoyBootstrap(twice))[0].message, /given twice/);
});

Deno.test("YAML syntax errors and non-bootstrap documents are reported", () => {
  const [syntax] = checkEnvoyBootstrap("admin:\n  address: [1, 2\n");
  assert.equal(syntax.severity, "error");
  assert.match(syntax.message, /^YAML: /);
  assert.ok(syntax.line !== undefined && syntax.line >= 2);
  assert.deepEqual(
    checkEnvoyBootstrap("- 1\n- 2\n").map((issue) => issue.message),
    [
      "expected an object (envoy.config.bootstrap.v3.Bootstrap), got a list",
    ],
  );
  assert.match(
    checkEnvoyBootstrap("a: 1\n---\nb: 2\n")[0].message,
    /expected one YAML document, found 2/,
  );
});

Deno.test("checkEnvoyMessage checks a typed_config on its own, as an EnvoyFilter patch holds it", () => {
  const wasm = {
    "@type":
      "type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm",
    config: {
      root_id: "wasmerang",
      configuration: {
        "@type": "type.googleapis.com/google.protobuf.StringValue",
        value: "istio",
      },
      vm_config: {
        runtime: "envoy.wasm.runtime.v8",
        code: { local: { filename: "/var/local/wasm/wasmerang.wasm" } },
      },
    },
  };
  assert.deepEqual(checkEnvoyMessage(wasm["@type"], wasm), []);
  assert.deepEqual(
    checkEnvoyMessage("envoy.extensions.filters.network.wasm.v3.Wasm", {
      config: wasm.config,
    }),
    [],
  );
  const broken = structuredClone(wasm);
  (broken.config.vm_config as Record<string, unknown>).runtim = "x";
  assert.deepEqual(
    checkEnvoyMessage(wasm["@type"], broken, [
      "spec",
      "configPatches",
      0,
      "patch",
      "value",
      "typed_config",
    ]).map((
      issue,
    ) => issue.path),
    ["spec.configPatches[0].patch.value.typed_config.config.vm_config.runtim"],
  );
  assert.match(
    checkEnvoyMessage("envoy.nope.Nope", {})[0].message,
    /unknown Envoy message envoy.nope.Nope/,
  );
});

Deno.test("TypedStruct values are checked against their type_url", () => {
  const typed = {
    "@type": "type.googleapis.com/udpa.type.v1.TypedStruct",
    type_url:
      "type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm",
    value: {
      config: {
        root_id: "wasmerang",
        vm_config: { runtime: "envoy.wasm.runtime.v8", vmid: "x" },
      },
    },
  };
  assert.deepEqual(
    checkEnvoyMessage(typed["@type"], typed).map((issue) => issue.path),
    [
      "value.config.vm_config.vmid",
    ],
  );
});

Deno.test("formatPath and renderIssues", () => {
  assert.equal(formatPath(["a", 0, "@type", "b_c"]), 'a[0]["@type"].b_c');
  assert.equal(
    renderIssues("envoy.yaml", [{
      path: "a.b",
      message: "bad",
      severity: "error",
      line: 3,
      column: 5,
    }]),
    "envoy.yaml:3:5: error: a.b: bad",
  );
});

Deno.test("check warns when the filter would load and silently do nothing", () => {
  const base = envoyYaml();
  assert.deepEqual(checkEnvoyBootstrap(base), []);
  const otherRoot = checkEnvoyBootstrap(
    base.replace("root_id: wasmerang", "root_id: mine"),
  );
  assert.deepEqual(errors(otherRoot), []);
  assert.deepEqual(
    otherRoot.map((issue) => [issue.path, issue.severity]),
    [[`${WASM_FILTER}.config.root_id`, "warning"]],
  );
  assert.match(otherRoot[0].message, /root_id is "mine", not "wasmerang"/);
  const weighted = checkEnvoyBootstrap(base.replace(
    /( +)cluster: egress1\n/,
    (_, indent) =>
      `${indent}weighted_clusters:\n${indent}  clusters:\n` +
      `${indent}  - { name: egress1, weight: 1 }\n${indent}  - { name: egress2, weight: 1 }\n`,
  ));
  assert.deepEqual(errors(weighted), []);
  assert.deepEqual(
    weighted.map((issue) => issue.path),
    [`${TCP_PROXY}.weighted_clusters`],
  );
  assert.match(weighted[0].message, /ignores the filter state/);
});
