/**
 * `deno task test:istio`: Istio's control plane in the loop. Builds the Go
 * harness (testing/istio, pinned to one Istio commit) and istioctl from the
 * same module, writes every `scaffold istio` variant (both APIs, the HTTP
 * override, other cluster names, a filter project of its own root id through
 * `--filter`) to a temporary folder, then runs:
 *
 * - the harness (Istio's in-process discovery server serving a vanilla Envoy
 *   1.40 as the client's sidecar, in a private network and mount namespace):
 *   routing per variant, then the failure cases;
 * - the offline gates: `istioctl analyze --use-kube=false`, `istioctl
 *   validate -f` on every variant (and on a broken copy, which must fail), and
 *   `istioctl kube-inject` proving the module is mounted where the filter
 *   loads it.
 *
 * Ends with Deno's summary line (`ok | N passed | 0 failed (…)`), which
 * `.ci/run` counts. Needs root (namespaces, iptables), Go 1.26 and Envoy 1.40.
 * Builds are kept in `$WASMERANG_CACHE` (default `~/.cache/wasmerang`), in
 * `istio-gomod`, `istio-gobuild` and `istio-bin`.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { requireEnvoy } from "../../lib/envoy/binary.ts";
import {
  ISTIO_ALPHA_BETA_RULE,
  writeFilterProject,
} from "../filter_project.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..", "..");
const started = Date.now();

type Doc = Record<string, unknown>;

const results: { name: string; ok: boolean; detail?: string }[] = [];

function record(name: string, ok: boolean, detail?: string): void {
  results.push({ name, ok, detail });
  console.log(
    `${name} ... ${ok ? "ok" : "FAILED"}${
      detail ? `\n  ${detail.replaceAll("\n", "\n  ")}` : ""
    }`,
  );
}

function seconds(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
}

function finish(): never {
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  if (failed > 0) {
    console.log("\nfailures:");
    for (const r of results.filter((r) => !r.ok)) console.log(`  ${r.name}`);
  }
  console.log(
    `\n${
      failed === 0 ? "ok" : "FAILED"
    } | ${passed} passed | ${failed} failed (${seconds(Date.now() - started)})`,
  );
  Deno.exit(failed === 0 ? 0 : 1);
}

async function exec(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; stream?: boolean } = {},
): Promise<{ code: number; out: string }> {
  const child = new Deno.Command(cmd, {
    args,
    cwd: opts.cwd,
    env: opts.env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const chunks: string[] = [];
  const decoder = () => new TextDecoderStream();
  const pump = async (stream: ReadableStream<Uint8Array>, echo: boolean) => {
    for await (const text of stream.pipeThrough(decoder())) {
      chunks.push(text);
      if (echo) Deno.stdout.writeSync(new TextEncoder().encode(text));
    }
  };
  await Promise.all([
    pump(child.stdout, opts.stream ?? false),
    pump(child.stderr, opts.stream ?? false),
  ]);
  const { code } = await child.status;
  return { code, out: chunks.join("") };
}

function goBinary(): string {
  const explicit = Deno.env.get("GO");
  if (explicit) return explicit;
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(join(dir, "go")).isFile) return join(dir, "go");
    } catch { /* not here */ }
  }
  return "/usr/local/go/bin/go";
}

/** The Istio version go.mod pins (the harness and istioctl use the same). */
function istioVersion(): string {
  const mod = Deno.readTextFileSync(join(HERE, "go.mod"));
  const m = mod.match(/^\s*istio\.io\/istio (v\S+)/m);
  if (!m) throw new Error("go.mod does not require istio.io/istio");
  return m[1];
}

const home = Deno.env.get("HOME") ?? "/root";
const cache = Deno.env.get("WASMERANG_CACHE") ??
  join(Deno.env.get("XDG_CACHE_HOME") ?? join(home, ".cache"), "wasmerang");
const bin = join(cache, "istio-bin");
const go = goBinary();
const goEnv: Record<string, string> = {
  GOMODCACHE: join(cache, "istio-gomod"),
  GOCACHE: join(cache, "istio-gobuild"),
  GOFLAGS: "-mod=readonly",
  GOTOOLCHAIN: "local",
};
Deno.mkdirSync(bin, { recursive: true });

// --- builds ----------------------------------------------------------------

const version = istioVersion();
console.log(
  `Istio ${version}; Go builds cached in ${cache}/istio-{gomod,gobuild,bin}`,
);

let t0 = Date.now();
const harness = join(bin, "harness.test");
const built = await exec(go, ["test", "-c", "-vet=off", "-o", harness, "."], {
  cwd: HERE,
  env: goEnv,
  stream: true,
});
record(
  `build the harness (go test -c, ${seconds(Date.now() - t0)})`,
  built.code === 0,
);
if (built.code !== 0) finish();

t0 = Date.now();
const istioctl = join(bin, "istioctl");
const stamp = join(bin, "istioctl.version");
let stamped = "";
try {
  stamped = Deno.readTextFileSync(stamp);
} catch { /* first build */ }
if (stamped !== version) {
  const inst = await exec(go, [
    "install",
    `istio.io/istio/istioctl/cmd/istioctl@${version}`,
  ], {
    env: { ...goEnv, GOBIN: bin, GOFLAGS: "" },
    stream: true,
  });
  if (inst.code === 0) Deno.writeTextFileSync(stamp, version);
  record(
    `build istioctl ${version} (go install, ${seconds(Date.now() - t0)})`,
    inst.code === 0,
  );
} else {
  record(`istioctl ${version} from the cache`, true);
}

// --- scaffolds -------------------------------------------------------------

const VARIANTS: { name: string; args: string[] }[] = [
  { name: "wasmplugin", args: [] },
  { name: "envoyfilter", args: ["--api", "envoyfilter"] },
  { name: "wasmplugin-http-override", args: ["--http-override"] },
  {
    name: "envoyfilter-http-override",
    args: ["--api", "envoyfilter", "--http-override"],
  },
  // Other cluster names: the harness expects the scaffold's own egress
  // Services (alpha even, beta odd), so the filter's configuration must name them.
  {
    name: "wasmplugin-named",
    args: ["--cluster", "alpha", "--cluster", "beta"],
  },
  {
    name: "envoyfilter-named",
    args: ["--api", "envoyfilter", "--cluster", "alpha", "--cluster", "beta"],
  },
];
const work = await Deno.makeTempDir({ prefix: "wasmerang-istio-" });
const scaffolds = join(work, "scaffolds");

// A filter of one's own: a project from `wasmerang new` (lib/new_project.ts),
// root id mesh-sides, its rule naming Istio's clusters for the scaffold's
// egresses (alpha even, beta odd). `scaffold istio --filter` builds it and puts
// its root id in the WasmPlugin's pluginName (the EnvoyFilter's root_id).
const PROJECT_ROOT = "mesh-sides";
const project = join(work, "project");
await writeFilterProject(project, PROJECT_ROOT, ISTIO_ALPHA_BETA_RULE);
const named = ["--cluster", "alpha", "--cluster", "beta"];
VARIANTS.push(
  { name: "wasmplugin-project", args: ["--filter", project, ...named] },
  {
    name: "envoyfilter-project",
    args: ["--api", "envoyfilter", "--filter", project, ...named],
  },
);
for (const v of VARIANTS) {
  const dir = join(scaffolds, v.name);
  const r = await exec(Deno.execPath(), [
    "run",
    "-A",
    join(ROOT, "cli.ts"),
    "scaffold",
    "istio",
    "--dir",
    dir,
    ...v.args,
  ], {
    cwd: ROOT,
  });
  record(
    `scaffold istio ${
      v.args.map((arg) => arg === project ? "<project>" : arg).join(" ") ||
      "(defaults)"
    }`,
    r.code === 0,
    r.code === 0 ? undefined : r.out,
  );
  if (r.code !== 0) finish();
}

function manifests(dir: string): string[] {
  return [...Deno.readDirSync(dir)]
    .filter((e) =>
      e.isFile && e.name.endsWith(".yaml") && e.name !== "kind-cluster.yaml"
    )
    .map((e) => join(dir, e.name))
    .sort();
}

function docsOf(path: string): Doc[] {
  return parseAllDocuments(Deno.readTextFileSync(path)).map((d) =>
    d.toJSON() as Doc
  ).filter(Boolean);
}

function at(v: unknown, ...path: (string | number)[]): unknown {
  for (const k of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[k];
  }
  return v;
}

// --- the harness -----------------------------------------------------------

let envoyPath: string;
try {
  const envoy = await requireEnvoy();
  envoyPath = envoy.path;
  console.log(`Envoy ${envoy.version} (${envoy.via}): ${envoy.path}`);
} catch (e) {
  record("find Envoy", false, (e as Error).message);
  finish();
}

t0 = Date.now();
const h = await exec(
  harness,
  ["-test.v", "-test.count=1", "-test.timeout=30m"],
  {
    cwd: work,
    env: { WASMERANG_ISTIO_SCAFFOLDS: scaffolds, WASMERANG_ENVOY: envoyPath },
    stream: true,
  },
);
// Leaf subtests count; a parent's line only when it has no reported children.
const lines = [...h.out.matchAll(/^\s*--- (PASS|FAIL): (\S+)/gm)].map((m) => ({
  ok: m[1] === "PASS",
  name: m[2],
}));
const leaves = lines.filter((l) =>
  !lines.some((o) => o.name.startsWith(l.name + "/"))
);
for (const l of leaves) results.push({ name: l.name, ok: l.ok });
if (leaves.length === 0 || (h.code !== 0 && leaves.every((l) => l.ok))) {
  record("the harness ran to its end", false, `exit code ${h.code}`);
}
console.log(`harness: ${leaves.length} cases in ${seconds(Date.now() - t0)}`);

// --- offline gates ---------------------------------------------------------

t0 = Date.now();
for (const v of VARIANTS) {
  const dir = join(scaffolds, v.name);
  const files = manifests(dir);
  const a = await exec(istioctl, ["analyze", "--use-kube=false", ...files]);
  record(
    `istioctl analyze --use-kube=false ${v.name}`,
    a.code === 0,
    a.out.trim(),
  );
  const bad: string[] = [];
  for (const f of files) {
    const r = await exec(istioctl, ["validate", "-f", f]);
    if (r.code !== 0) bad.push(`${f}: ${r.out.trim()}`);
  }
  record(
    `istioctl validate -f ${v.name} (${files.length} files)`,
    bad.length === 0,
    bad.join("\n") || undefined,
  );
}

// The gates bite: a bad enum value for analyze, an unknown field for validate.
{
  const src = join(scaffolds, "wasmplugin", "wasmplugin.yaml");
  const text = Deno.readTextFileSync(src);
  const badEnum = join(work, "bad-enum.yaml");
  Deno.writeTextFileSync(
    badEnum,
    text.replace(/failStrategy: \S+/, "failStrategy: FAIL_SOMETIMES"),
  );
  const a = await exec(istioctl, ["analyze", "--use-kube=false", badEnum]);
  record(
    "istioctl analyze refuses failStrategy: FAIL_SOMETIMES",
    a.code !== 0,
    a.out.trim().split("\n")[0],
  );
  const unknown = join(work, "unknown-field.yaml");
  Deno.writeTextFileSync(
    unknown,
    text.replace(
      /^(\s*)type: NETWORK$/m,
      "$1type: NETWORK\n$1failStrategyy: FAIL_CLOSE",
    ),
  );
  const r = await exec(istioctl, ["validate", "-f", unknown]);
  record(
    "istioctl validate refuses an unknown field (failStrategyy)",
    r.code !== 0,
    r.out.trim().split("\n")[0],
  );
}

// kube-inject with the minimal profile's injector: the filter ConfigMap mounted
// in istio-proxy where the WasmPlugin's url (or the EnvoyFilter's filename) points.
{
  const gen = await exec(istioctl, [
    "manifest",
    "generate",
    "--set",
    "profile=minimal",
  ]);
  let injectorOk = gen.code === 0;
  const injectDir = join(work, "inject");
  Deno.mkdirSync(injectDir, { recursive: true });
  if (injectorOk) {
    const docs = parseAllDocuments(gen.out).map((d) => d.toJSON() as Doc)
      .filter(Boolean);
    const cm = (name: string) =>
      docs.find((d) =>
        d.kind === "ConfigMap" && at(d, "metadata", "name") === name
      );
    const injector = cm("istio-sidecar-injector");
    const mesh = cm("istio");
    if (!injector || !mesh) {
      injectorOk = false;
    } else {
      Deno.writeTextFileSync(
        join(injectDir, "inject.yaml"),
        String(at(injector, "data", "config")),
      );
      Deno.writeTextFileSync(
        join(injectDir, "values.json"),
        String(at(injector, "data", "values")),
      );
      Deno.writeTextFileSync(
        join(injectDir, "mesh.yaml"),
        String(at(mesh, "data", "mesh")),
      );
    }
  }
  record(
    "istioctl manifest generate --set profile=minimal (the injector configuration)",
    injectorOk,
    injectorOk ? undefined : gen.out.slice(0, 2000),
  );
  if (injectorOk) {
    for (const v of VARIANTS.filter((v) => !v.name.includes("http"))) {
      const dir = join(scaffolds, v.name);
      const r = await exec(istioctl, [
        "kube-inject",
        "-f",
        join(dir, "client.yaml"),
        "--injectConfigFile",
        join(injectDir, "inject.yaml"),
        "--meshConfigFile",
        join(injectDir, "mesh.yaml"),
        "--valuesFile",
        join(injectDir, "values.json"),
        "--revision",
        "default",
      ]);
      const name =
        `istioctl kube-inject ${v.name}: the module is mounted where the filter loads it`;
      if (r.code !== 0) {
        record(name, false, r.out.trim());
        continue;
      }
      // Where the filter loads the module from, by the scaffold's own manifests.
      let modulePath = "";
      for (const f of manifests(dir)) {
        for (const d of docsOf(f)) {
          if (d.kind === "WasmPlugin") {
            modulePath = String(at(d, "spec", "url")).replace(/^file:\/\//, "");
          }
          if (d.kind === "EnvoyFilter" && !modulePath) {
            for (
              const p of (at(d, "spec", "configPatches") as unknown[]) ?? []
            ) {
              const fn = at(
                p,
                "patch",
                "value",
                "typed_config",
                "config",
                "vm_config",
                "code",
                "local",
                "filename",
              );
              if (typeof fn === "string") modulePath = fn;
            }
          }
        }
      }
      const cmDoc = docsOf(join(dir, "filter-configmap.yaml"))[0];
      const cmName = String(at(cmDoc, "metadata", "name"));
      const keys = Object.keys((at(cmDoc, "binaryData") ?? {}) as Doc);
      const injected = parseAllDocuments(r.out).map((d) => d.toJSON() as Doc)
        .find((d) => d?.kind === "Deployment");
      const spec = at(injected, "spec", "template", "spec") as Doc | undefined;
      const proxy = ((spec?.containers as Doc[]) ?? []).find((c) =>
        c.name === "istio-proxy"
      );
      const volumes = (spec?.volumes as Doc[]) ?? [];
      const mounts = (proxy?.volumeMounts as Doc[]) ?? [];
      const hit = mounts.find((m) => {
        const vol = volumes.find((v) => v.name === m.name);
        const mp = String(m.mountPath).replace(/\/$/, "");
        return at(vol, "configMap", "name") === cmName &&
          keys.some((k) => `${mp}/${k}` === modulePath);
      });
      record(
        name,
        hit !== undefined,
        hit
          ? `istio-proxy mounts ConfigMap ${cmName} at ${hit.mountPath} (key ${
            keys.join(",")
          }) -> ${modulePath}`
          : `no istio-proxy mount of ConfigMap ${cmName} gives ${modulePath}; mounts: ${
            JSON.stringify(mounts)
          }`,
      );
    }
  }
}
console.log(`offline gates: ${seconds(Date.now() - t0)}`);

await Deno.remove(work, { recursive: true }).catch(() => {});
finish();
