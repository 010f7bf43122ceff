/**
 * The flagship filter's parity rule without Wasm: Envoy's own network filter
 * `set_filter_state` (Envoy ≥ 1.40 with CEL in format strings) sets
 * `envoy.tcp_proxy.cluster` from a CEL expression on the source address.
 * The bench weighs the filter against it and a differential test holds the
 * two to the same choices.
 *
 * It covers only what one expression can: IPv4 parity between two fixed
 * cluster names, with no counters, no decision log, no JSON configuration and
 * no Istio names from the destination port.
 *
 * @module
 */
import { TCP_PROXY_CLUSTER_KEY } from "../../host/mod.ts";

/** The network filter's name. */
export const SET_FILTER_STATE_FILTER = "envoy.filters.network.set_filter_state";

/**
 * The CEL expression for `even` and `odd` clusters: the source address ends
 * in an even digit before its port (`…2:40001`), so the last octet is even.
 */
export function parityExpression(even: string, odd: string): string {
  return `source.address.matches('[02468]:[0-9]+$') ? ${celString(even)} : ${
    celString(odd)
  }`;
}

/** A CEL string literal: single-quoted, backslash and quote escaped. */
function celString(text: string): string {
  return `'${text.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

/**
 * The `set_filter_state` network filter (as bootstrap data) that sends even
 * sources to `even` and odd ones to `odd`; it goes before tcp_proxy, where
 * the wasm filter would be.
 */
export function nativeParityFilter(
  even = "egress1",
  odd = "egress2",
): Record<string, unknown> {
  // `%` would start another format operator inside the format string.
  for (const name of [even, odd]) {
    if (name.includes("%") || name.includes(")")) {
      throw new Error(
        `cluster ${JSON.stringify(name)}: '%' and ')' do not fit a CEL format`,
      );
    }
  }
  return {
    name: SET_FILTER_STATE_FILTER,
    typed_config: {
      "@type":
        "type.googleapis.com/envoy.extensions.filters.network.set_filter_state.v3.Config",
      on_new_connection: [{
        object_key: TCP_PROXY_CLUSTER_KEY,
        format_string: {
          text_format_source: {
            inline_string: `%CEL(${parityExpression(even, odd)})%`,
          },
        },
      }],
    },
  };
}

type Chain = { filters: { name: string }[] };
type BootstrapShape = {
  static_resources: { listeners: { filter_chains: Chain[] }[] };
};

/**
 * `bootstrap` (data from envoyBootstrapData) with its wasm filter replaced by
 * {@link nativeParityFilter}; a new object, the input is left as it was.
 */
export function withNativeParityFilter(
  bootstrap: Record<string, unknown>,
  even = "egress1",
  odd = "egress2",
): Record<string, unknown> {
  const copy = structuredClone(bootstrap) as unknown as BootstrapShape;
  for (const listener of copy.static_resources.listeners) {
    for (const chain of listener.filter_chains) {
      chain.filters = chain.filters.map((filter) =>
        filter.name === "envoy.filters.network.wasm"
          ? nativeParityFilter(even, odd) as unknown as { name: string }
          : filter
      );
    }
  }
  return copy as unknown as Record<string, unknown>;
}
