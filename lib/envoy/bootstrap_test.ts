// The generated bootstrap is data written by the YAML library: hostile cluster
// names and configurations are refused in one line by the TypeScript parser
// and the filter alike, or reach a real Envoy as exactly the intended chain.
// The seeded fuzz here is small; bootstrap_fuzz_soak.ts runs many more.
import assert from "node:assert/strict";
import { join } from "node:path";
import { parse } from "yaml";
import { embeddedFilter } from "../filter_module.ts";
import { UserError } from "../errors.ts";
import { FUZZ_SEED } from "../../testing/fuzz_seed.ts";
import { random } from "../../host/testing/fuzz.ts";
import { testEnvoy } from "../../testing/envoy.ts";
import { envoyBootstrap } from "./bootstrap.ts";
import {
  checkChain,
  envoyConfigDump,
  envoyValidates,
  generate,
  parsersAgree,
  readAsEnvoy,
  runGeneratorFuzz,
  tsVerdict,
} from "./bootstrap_fuzz.ts";
import { composeYaml } from "../../environments/docker/templates.ts";
import { dockerNetwork } from "../../environments/docker/network.ts";
import { dockerScaffoldFiles } from "../../environments/docker/scaffold.ts";
import { renderIstioFiles } from "../../environments/istio/files.ts";
import {
  checkSettings,
  DEFAULT_SETTINGS,
} from "../../environments/istio/manifests.ts";

const envoy = await testEnvoy();
const RBAC =
  '{"clusters":["e1\\n  - name: envoy.filters.network.rbac\\n    typed_config: {}","e2"]}';

Deno.test("the rbac injection through a cluster name is refused in one line by both parsers and by the bootstrap", async () => {
  const reason = await parsersAgree(RBAC);
  assert.equal(
    reason,
    'invalid configuration: "clusters" must not contain control characters or unpaired surrogates',
  );
  const outcome = generate(
    {
      config: RBAC,
      addresses: ["127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"],
    },
    "/x.wasm",
  );
  assert.ok("refused" in outcome && outcome.refused === reason);
  assert.throws(
    () =>
      envoyBootstrap({
        writtenBy: "wasmerang up envoy",
        checkCommand: "wasmerang check",
        admin: { address: "127.0.0.1", port: 0 },
        listener: { address: "127.0.0.1", port: 0 },
        configuration: "standalone",
        wasmFilename: "/x.wasm",
        clusters: [
          {
            name: "e1\n  - name: envoy.filters.network.rbac",
            address: "127.0.0.1",
            port: 1,
          },
          { name: "e2", address: "127.0.0.1", port: 1 },
        ],
        clusterType: "STATIC",
      }),
    (error: Error) =>
      error instanceof UserError && !error.message.includes("\n") &&
      error.message.startsWith('cluster name "e1\\u000a  - name:'),
  );
});

Deno.test("other refusals quote the text on one line, the same in both parsers", async () => {
  for (
    const config of [
      "kube\nrnetes",
      '{"clu\\nsters":["a","b"]}',
      '{"namespace":"a\\u0085b","mode":"istio"}',
      '{"clusters":["\\ud800","b"]}',
      '{"clusters":["a\\u007f","b"]}',
      `{"${"k".repeat(100)}":1}`,
    ]
  ) {
    assert.ok(await parsersAgree(config) !== undefined, config);
  }
  assert.equal(
    tsVerdict("kube\nrnetes"),
    'invalid configuration "kube\\u000arnetes": expected "standalone", "istio" or a JSON object',
  );
});

Deno.test("a duplicate cluster name is refused by the bootstrap in one line", () => {
  const outcome = generate(
    {
      config: '{"clusters":["a","a"]}',
      addresses: ["127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"],
    },
    "/x.wasm",
  );
  assert.ok("refused" in outcome, JSON.stringify(outcome));
  assert.match(outcome.refused, /^cluster name "a" is given twice/);
});

Deno.test({
  name:
    "names that are YAML keywords or indicators reach a real Envoy as strings, with exactly wasm then tcp_proxy",
  ignore: envoy === undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "wasmerang-bootstrap-" });
    try {
      const wasm = join(dir, "filter.wasm");
      await Deno.writeFile(wasm, embeddedFilter());
      const names = [
        ["y", "on"],
        ["null", "~"],
        ["no", "1e3"],
        ["#x", "- a: b"],
        ["&a", "*a"],
        ["é 😀", "a\u2028b"],
        ['"', "'"],
      ];
      // And a configuration that is refused (so never parsed for names) but
      // still written: it must stay one string value, never configuration.
      const configs = [
        ...names.map((pair) => JSON.stringify({ clusters: pair })),
        "standalone\n  - name: envoy.filters.network.rbac",
      ];
      await Promise.all(configs.map(async (config, i) => {
        const outcome = generate({
          config,
          addresses: [
            "127.0.0.1:0",
            "127.0.0.1:0",
            "127.0.0.1:0",
            "127.0.0.1:0",
          ],
        }, wasm);
        const bootstrap = "bootstrap" in outcome
          ? outcome.bootstrap
          : envoyBootstrap({
            writtenBy: "wasmerang up envoy",
            checkCommand: "wasmerang check",
            admin: { address: "127.0.0.1", port: 0 },
            listener: { address: "127.0.0.1", port: 0 },
            configuration: config,
            wasmFilename: wasm,
            clusters: [
              { name: "egress1", address: "127.0.0.1", port: 1 },
              { name: "egress2", address: "127.0.0.1", port: 1 },
            ],
            clusterType: "STATIC",
          });
        const clusters = "bootstrap" in outcome
          ? outcome.clusters
          : ["egress1", "egress2"];
        checkChain(readAsEnvoy(bootstrap), config, clusters);
        const file = join(dir, `b${i}.yaml`);
        await Deno.writeTextFile(file, bootstrap);
        const verdict = await envoyValidates(envoy!, file);
        if (config.startsWith("{")) assert.equal(verdict, undefined, bootstrap);
        else {
          // Validation runs the filter: it refuses the configuration, which
          // reached it whole, as one string.
          assert.match(verdict ?? "", /Plugin wasmerang failed to load/);
        }
      }));
      // One for real: the live chain and clusters, read from admin.
      const outcome = generate({
        config: JSON.stringify({ clusters: ["y", "on: #x\u2028"] }),
        addresses: ["127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"],
      }, wasm);
      assert.ok("bootstrap" in outcome);
      const file = join(dir, "live.yaml");
      await Deno.writeTextFile(file, outcome.bootstrap);
      const live = await envoyConfigDump(envoy!, file, dir);
      const chain =
        (live.listener.filter_chains as { filters: { name: string }[] }[])[0]
          .filters.map((filter) => filter.name);
      assert.deepEqual(chain, [
        "envoy.filters.network.wasm",
        "envoy.filters.network.tcp_proxy",
      ]);
      assert.deepEqual(live.clusters.sort(), ["on: #x\u2028", "y"]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    `40 random up-envoy inputs: refused in one line, or a real Envoy accepts exactly the intended chain (seed ${FUZZ_SEED})`,
  ignore: envoy === undefined,
  async fn() {
    const counts = await runGeneratorFuzz(envoy!, FUZZ_SEED, 40, 0);
    assert.ok(counts.accepted + counts.refused === 40);
  },
});

Deno.test(`random compose and Istio inputs are refused in one line or written as exactly the values given (seed ${FUZZ_SEED})`, () => {
  const next = random(FUZZ_SEED + 1);
  const pieces = [
    "y",
    "on",
    "null",
    "a",
    "-",
    ":",
    "#",
    " ",
    "\n",
    "é",
    "1",
    ".",
    "/",
    "@",
    "'",
    '"',
    "x",
  ];
  const word = () => {
    let out = "";
    for (let i = Math.floor(next() * 5); i > 0; i--) {
      out += pieces[Math.floor(next() * pieces.length)];
    }
    return out;
  };
  for (let i = 0; i < 60; i++) {
    const envoyImage = word();
    const namespace = word();
    for (
      const make of [
        () => {
          const files = dockerScaffoldFiles({
            wasm: new Uint8Array(8),
            envoyImage,
          });
          const compose = parse(String(files[0].content), { version: "1.1" });
          assert.equal(compose.services.envoy.image, envoyImage);
        },
        () => {
          const settings = checkSettings({ ...DEFAULT_SETTINGS, namespace });
          for (
            const [name, text] of renderIstioFiles(settings, new Uint8Array(8))
          ) {
            if (!name.endsWith(".yaml")) continue;
            for (const doc of text.split(/^---$/m)) {
              const data = parse(doc, { version: "1.1" });
              if (data?.metadata?.namespace !== undefined) {
                assert.equal(data.metadata.namespace, namespace);
              }
            }
          }
        },
      ]
    ) {
      try {
        make();
      } catch (error) {
        assert.ok(error instanceof UserError, String(error));
        assert.ok(!error.message.includes("\n"), error.message);
      }
    }
  }
  // The compose file's user values are quoted even where YAML 1.2 would not.
  const text = composeYaml({ envoyImage: "on", network: dockerNetwork() });
  assert.match(text, /image: "on"/);
});
