/**
 * Envoy's v3 API as protobufjs reflection, loaded once from the pre-built
 * descriptor (`envoy_api.generated.ts`, written by `deno task envoy-api` from
 * npm `@grpc/grpc-js-xds`'s .proto files; that package is not a dependency of
 * the project and nothing here loads it).
 *
 * @module
 */
import protobuf from "protobufjs";
import { ENVOY_API_JSON, ENVOY_API_SOURCE } from "./envoy_api.generated.ts";

export { ENVOY_API_SOURCE };

/** The full name of Envoy's bootstrap message. */
export const BOOTSTRAP_TYPE = "envoy.config.bootstrap.v3.Bootstrap";

let api: protobuf.Root | undefined;

/** Envoy's API, loaded once (about 0.1 s). */
export function envoyApi(): protobuf.Root {
  if (!api) {
    api = protobuf.Root.fromJSON(JSON.parse(ENVOY_API_JSON));
    api.resolveAll();
  }
  return api;
}

/** Finds a message or enum by full name (with or without the leading dot). */
export function lookupDefinition(
  name: string,
): protobuf.Type | protobuf.Enum | undefined {
  const found = envoyApi().lookup(name.startsWith(".") ? name : `.${name}`);
  return found instanceof protobuf.Type || found instanceof protobuf.Enum
    ? found
    : undefined;
}

/** A message's or enum's full name without the leading dot ("" for none). */
export function typeName(
  type: protobuf.ReflectionObject | null | undefined,
): string {
  return type ? type.fullName.replace(/^\./, "") : "";
}
