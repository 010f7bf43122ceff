/**
 * Checks Envoy configuration against Envoy's own v3 API (the protos shipped in
 * npm `@grpc/grpc-js-xds`, pre-built into `envoy_api.generated.ts`), the
 * way Envoy's proto3-JSON loader and protoc-gen-validate would see it:
 *
 * - unknown fields (snake_case or lowerCamelCase accepted, as Envoy does),
 *   wrong types, bad enum names, numbers out of range;
 * - `google.protobuf.Any` (`typed_config`, the wasm `configuration`…) resolved
 *   through its `@type` URL and checked recursively; an unknown URL is an error;
 *   `udpa.type.v1.TypedStruct` / `xds.type.v3.TypedStruct` values are checked
 *   against their `type_url`;
 * - the common protoc-gen-validate rules: required oneofs and messages, string
 *   lengths, numeric and duration bounds, repeated item counts;
 * - a few checks Envoy makes when it loads a bootstrap: a terminal network
 *   filter (tcp_proxy…) must be last in its chain, cluster names are unique,
 *   tcp_proxy clusters exist, and the flagship filter's configuration parses.
 *
 * This module is the checker's face; each concern has its own module beside
 * it: `proto_json.ts` (the walk), `well_known.ts`, `scalars.ts`,
 * `presence.ts` and `validate_rules.ts` (protoc-gen-validate), `suggest.ts`
 * ("did you mean"), `wasm_config.ts`, `bootstrap_lints.ts`,
 * `yaml_positions.ts` and `render.ts`.
 *
 * Every issue names the YAML path, e.g.
 * `static_resources.listeners[0].filter_chains[0].filters[0].typed_config.config.vm_config.runtime`.
 *
 * @example
 * ```ts
 * import { checkEnvoyBootstrap, checkEnvoyMessage } from "./envoy_check.ts";
 * const issues = checkEnvoyBootstrap(await Deno.readTextFile("envoy.yaml"));
 * checkEnvoyMessage("type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm", { config: {} });
 * ```
 */
import protobuf from "protobufjs";
import { BOOTSTRAP_TYPE, lookupDefinition, typeName } from "./envoy_api.ts";
import { type CheckIssue, IssueLog, type Segment } from "./issues.ts";
import { isObject } from "./json_values.ts";
import { ProtoJsonWalk } from "./proto_json.ts";
import { formatPath } from "./render.ts";
import { lintBootstrap } from "./bootstrap_lints.ts";
import { checkAny, SPECIAL_JSON, typeFromUrl } from "./well_known.ts";
import { parseOneDocument } from "./yaml_positions.ts";

export { BOOTSTRAP_TYPE, ENVOY_API_SOURCE, envoyApi } from "./envoy_api.ts";
export type { CheckIssue, Segment } from "./issues.ts";
export { formatPath, renderIssues } from "./render.ts";

/**
 * Checks `value` (a parsed YAML/JSON object) as a message of `typeUrlOrName`
 * (`envoy.config.listener.v3.Listener` or a full type URL). When it names an
 * `Any` (a `typed_config`), pass the object with its `@type`. Paths in the
 * issues start at `basePath` (e.g. the EnvoyFilter's YAML path).
 */
export function checkEnvoyMessage(
  typeUrlOrName: string,
  value: unknown,
  basePath: readonly Segment[] = [],
): CheckIssue[] {
  const log = new IssueLog();
  const walk = new ProtoJsonWalk(log);
  const type = typeUrlOrName.includes("/")
    ? typeFromUrl(log, typeUrlOrName, [])
    : lookupDefinition(typeUrlOrName);
  if (!(type instanceof protobuf.Type)) {
    if (log.issues.length === 0) {
      log.error([], `unknown Envoy message ${typeUrlOrName}`);
    }
  } else if (
    isObject(value) && typeof value["@type"] === "string" &&
    !SPECIAL_JSON.has(typeName(type))
  ) {
    checkAny(walk, value, []);
  } else {
    walk.message(type, value, []);
  }
  return log.issues.map((issue) => ({
    path: formatPath([...basePath, ...issue.segments]),
    message: issue.message,
    severity: issue.severity,
  }));
}

/**
 * Checks an Envoy bootstrap file (YAML or JSON text): the schema, then the
 * checks Envoy makes on load. Issues carry the line and column of the node.
 */
export function checkEnvoyBootstrap(text: string): CheckIssue[] {
  const document = parseOneDocument(text);
  if ("problems" in document) return document.problems;
  const log = new IssueLog();
  new ProtoJsonWalk(log).message(
    lookupDefinition(BOOTSTRAP_TYPE) as protobuf.Type,
    document.value,
    [],
  );
  if (!log.hasErrors() && isObject(document.value)) {
    lintBootstrap(log, document.value);
  }
  return log.issues.map((issue) => {
    const position = document.positionOf(issue.segments);
    return {
      path: formatPath(issue.segments),
      message: issue.message,
      severity: issue.severity,
      ...(position ? { line: position.line, column: position.column } : {}),
    };
  });
}
