/**
 * Generates `checker/envoy_api.generated.ts`: Envoy's v3 API (config,
 * extensions, type) as one protobufjs JSON descriptor, built from the .proto
 * files that npm `@grpc/grpc-js-xds` ships under `deps/` (envoy-api, xds,
 * protoc-gen-validate, googleapis) plus protobufjs' own `google/protobuf`.
 *
 * Why a generated module: the checker must work in a `deno compile`d binary,
 * where nothing may be read from the source checkout or node_modules at run
 * time. A static import of this module carries the whole schema; loading it
 * takes about 0.1 s.
 *
 * Why this script stands apart from the project: `@grpc/grpc-js-xds` (and the
 * gRPC client, google-auth-library, node-forge, yargs... it depends on) is
 * needed only for its .proto files, here, never at run time. So deno.json does
 * not name it and `deno task setup` does not install it: this script imports
 * its packages by full `npm:` specifiers and runs without the project's
 * config, with its own lockfile (`envoy_api_generate.lock`), from Deno's
 * global cache (no node_modules). The project's graph never reaches this file.
 * The task type-checks it too (`deno run --check`): a `deno check` of it under
 * the project's config would put the package back into deno.lock.
 *
 * Refresh (after changing a version below or this script):
 *
 * ```sh
 * deno task envoy-api            # rewrites checker/envoy_api.generated.ts
 * deno task envoy-api --check    # exit 1 when the committed file differs
 * ```
 *
 * The generated module records the SHA-256 of this script's text;
 * `checker/envoy_check_test.ts` fails when the script changed and the module
 * was not regenerated, without needing the package.
 *
 * Only options the checker reads are kept (protoc-gen-validate rules and
 * deprecation marks); comments and reserved ranges are dropped.
 */
// The generator's own packages, pinned here and in envoy_api_generate.lock (not
// in deno.json). protobufjs must be the version deno.json gives the checker:
// checked below.
// deno-lint-ignore no-import-prefix
import protobuf from "npm:protobufjs@8.8.1";
// deno-lint-ignore no-import-prefix
import xdsManifest from "npm:@grpc/grpc-js-xds@1.14.1/package.json" with {
  type: "json",
};
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

/** Where the generated module lives. */
export const GENERATED_PATH = new URL(
  "./envoy_api.generated.ts",
  import.meta.url,
);

/** The protobufjs this script loads the protos with. */
const PROTOBUFJS = "npm:protobufjs@8.8.1";

/** The directory of an npm package this script imports (in Deno's global cache). */
function packageDir(specifier: string): string {
  return path.dirname(
    fileURLToPath(import.meta.resolve(`${specifier}/package.json`)),
  );
}

/** The npm package (and version) the protos come from. */
function xdsPackage(): { dir: string; version: string } {
  return {
    dir: packageDir(`npm:@grpc/grpc-js-xds@${xdsManifest.version}`),
    version: xdsManifest.version,
  };
}

function protobufjsDir(): string {
  return packageDir(PROTOBUFJS);
}

/** Fails unless deno.json gives the checker the protobufjs this script uses. */
function assertSameProtobufjs(): void {
  const config = JSON.parse(
    fs.readFileSync(
      fileURLToPath(new URL("../deno.json", import.meta.url)),
      "utf8",
    ),
  );
  const project = config.imports?.protobufjs;
  if (project !== PROTOBUFJS) {
    throw new Error(
      `deno.json maps protobufjs to ${project}, this script loads ${PROTOBUFJS}: make them the same`,
    );
  }
}

/**
 * The SHA-256 (hex) of this script's text, line endings normalised: the
 * generated module records it, and the checker's test compares.
 */
async function generatorFingerprint(text: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(text.replaceAll("\r\n", "\n")),
  );
  return [...new Uint8Array(digest)]
    .map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

function walk(dir: string, out: string[] = []): string[] {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else if (entry.name.endsWith(".proto")) out.push(full);
  }
  return out;
}

/** The root files: every v3 config, extension and type proto whose imports all resolve. */
function rootFiles(includes: string[]): string[] {
  const common = protobuf.common as unknown as Record<string, unknown>;
  const find = (target: string) =>
    includes.map((dir) => path.join(dir, target)).find((file) =>
      fs.existsSync(file)
    );
  const memo = new Map<string, boolean>();
  const resolvable = (target: string, seen: Set<string>): boolean => {
    if (common[target] !== undefined) return true;
    if (memo.has(target)) return memo.get(target)!;
    if (seen.has(target)) return true;
    seen.add(target);
    const file = find(target);
    const ok = file !== undefined &&
      [
        ...fs.readFileSync(file, "utf8").matchAll(
          /^import\s+(?:public\s+|weak\s+)?"([^"]+)";/gm,
        ),
      ]
        .every((match) => resolvable(match[1], seen));
    memo.set(target, ok);
    return ok;
  };
  const envoyApi = includes[0];
  const candidates = walk(path.join(envoyApi, "envoy"))
    .map((file) => path.relative(envoyApi, file).split(path.sep).join("/"))
    .filter((file) =>
      /^envoy\/(config|extensions|type)\/(.+\/)?v3\//.test(file)
    )
    .concat([
      "udpa/type/v1/typed_struct.proto",
      "xds/type/v3/typed_struct.proto",
    ])
    .sort();
  return candidates.filter((file) => resolvable(file, new Set()));
}

const KEPT_OPTION =
  /^(\(validate\.|deprecated$|\(envoy\.annotations\.disallowed_by_default)/;

/** Drops what the checker never reads, keeping the JSON small and stable. */
function prune(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(prune);
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "comment" || key === "reserved" || key === "edition") continue;
    if (key === "options") {
      const kept = Object.fromEntries(
        Object.entries(value as object).filter(([name]) =>
          KEPT_OPTION.test(name)
        ),
      );
      if (Object.keys(kept).length > 0) out.options = kept;
      continue;
    }
    out[key] = prune(value);
  }
  return out;
}

/** Loads the protos and returns the text of the generated module. */
export async function generateEnvoyApiModule(): Promise<string> {
  assertSameProtobufjs();
  const xds = xdsPackage();
  const fingerprint = await generatorFingerprint(
    await Deno.readTextFile(new URL(import.meta.url)),
  );
  const deps = path.join(xds.dir, "deps");
  const includes = ["envoy-api", "xds", "protoc-gen-validate", "googleapis"]
    .map((dir) => path.join(deps, dir))
    .concat([protobufjsDir()]);
  const files = rootFiles(includes);
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) =>
    includes.map((dir) => path.join(dir, target)).find((file) =>
      fs.existsSync(file)
    ) ?? target;
  root.loadSync(files, { keepCase: true });
  root.resolveAll();
  const json = JSON.stringify(prune(root.toJSON()));
  return [
    "// Generated by checker/envoy_api_generate.ts from npm @grpc/grpc-js-xds@" +
    xds.version + " deps/",
    `// (${files.length} root .proto files). Do not edit: run \`deno task envoy-api\`.`,
    "",
    "/** Envoy's v3 API as a protobufjs JSON descriptor (text). */",
    `export const ENVOY_API_JSON = ${JSON.stringify(json)};`,
    "",
    "/** The npm package the descriptor was generated from. */",
    `export const ENVOY_API_SOURCE = ${
      JSON.stringify(`@grpc/grpc-js-xds@${xds.version}`)
    };`,
    "",
    "/** SHA-256 of checker/envoy_api_generate.ts when this module was generated. */",
    `export const ENVOY_API_GENERATOR_SHA256 = ${JSON.stringify(fingerprint)};`,
    "",
  ].join("\n");
}

if (import.meta.main) {
  const text = await generateEnvoyApiModule();
  const where = path.relative(Deno.cwd(), fileURLToPath(GENERATED_PATH));
  if (Deno.args.includes("--check")) {
    const committed = await Deno.readTextFile(GENERATED_PATH);
    if (committed !== text) {
      console.error(`${where} is stale: run \`deno task envoy-api\``);
      Deno.exit(1);
    }
    console.log(`${where} is what the protos generate`);
  } else {
    await Deno.writeTextFile(GENERATED_PATH, text);
    console.log(`wrote ${where} (${text.length} bytes)`);
  }
}
