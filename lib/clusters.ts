/**
 * Clusters by name: `up local` and `up envoy` take `--cluster NAME=HOST:PORT`
 * (repeatable; the first is tcp_proxy's default) and start one egress server
 * per cluster, answering with its name. `--egress1`/`--egress2` stay as the
 * parity example's shorthand for its two clusters.
 *
 * The Docker and Istio scaffolds name their clusters with `--cluster NAME`:
 * the names become service and DNS names there, so they are DNS labels
 * (`scaffoldClusterNames`), and the flagship filter is configured for them
 * (`parityConfiguration`).
 *
 * @example
 * ```ts
 * import { parseClusterFlags } from "./clusters.ts";
 * parseClusterFlags(["alpha=127.0.0.1:19101", "beta=127.0.0.1:0"]);
 * // [{ name: "alpha", address: "127.0.0.1:19101" }, { name: "beta", address: "127.0.0.1:0" }]
 * ```
 *
 * @module
 */
import { UsageError } from "./errors.ts";
import { type HostPort, parseHostPort } from "./address.ts";
import { parseListenOptions } from "./listen_options.ts";
import { DEFAULT_CONFIG, isUsableName, quoteText } from "./routing.ts";

/** One named cluster as `--cluster` gives it: its name and its `HOST:PORT`. */
export interface NamedCluster {
  /** The cluster's name: the filter's choice, tcp_proxy's cluster, the egress's banner. */
  name: string;
  /** Where its egress server listens, `HOST:PORT` (port 0: any free port). */
  address: string;
}

/**
 * Parses `--cluster NAME=HOST:PORT` flags, in order: each a usable name
 * (not empty, no control characters, as lib/routing.ts `isUsableName`), a
 * `HOST:PORT` address, no name twice. Each mistake is one UsageError.
 */
export function parseClusterFlags(specs: readonly string[]): NamedCluster[] {
  const clusters: NamedCluster[] = [];
  for (const spec of specs) {
    const at = spec.lastIndexOf("=");
    if (at < 0) {
      throw new UsageError(
        `--cluster ${
          quoteText(spec)
        }: use NAME=HOST:PORT, e.g. --cluster alpha=127.0.0.1:19101`,
      );
    }
    const name = spec.slice(0, at);
    const address = spec.slice(at + 1);
    if (name === "") {
      throw new UsageError(
        `--cluster ${quoteText(spec)}: the cluster name is empty`,
      );
    }
    if (!isUsableName(name)) {
      throw new UsageError(
        `--cluster ${
          quoteText(name)
        }: a cluster name must not contain control characters or unpaired surrogates`,
      );
    }
    if (clusters.some((cluster) => cluster.name === name)) {
      throw new UsageError(
        `--cluster ${quoteText(name)} is given twice: name each cluster once`,
      );
    }
    parseHostPort(address, `--cluster ${name}`);
    clusters.push({ name, address });
  }
  return clusters;
}

/**
 * Refuses `--cluster` together with the parity shorthand `--egress1` /
 * `--egress2`, in one line.
 */
export function refuseMixedClusterFlags(options: {
  cluster?: readonly string[];
  egress1?: string;
  egress2?: string;
}): void {
  if (
    options.cluster !== undefined && options.cluster.length > 0 &&
    (options.egress1 !== undefined || options.egress2 !== undefined)
  ) {
    throw new UsageError(
      "--egress1/--egress2 are the parity example's shorthand: with --cluster, name every cluster with --cluster",
    );
  }
}

/** The egress options of `up local` and `up envoy`. */
export interface EgressFlags {
  /** `NAME=HOST:PORT`, one per cluster, the default first. */
  cluster?: readonly string[];
  /** The parity example's first egress. */
  egress1?: string;
  /** The parity example's second egress. */
  egress2?: string;
}

/** Every address of an up command, parsed and checked together. */
export interface EgressPlan<K extends string> {
  /** The command's own addresses (`listen`, `admin`). */
  fixed: Record<K, HostPort>;
  /** The clusters `--cluster` names, in order; undefined for the parity shorthand. */
  clusters?: { name: string; address: HostPort }[];
  /** The parity shorthand's two egress addresses (without `--cluster`). */
  egress: [HostPort, HostPort];
}

/**
 * Parses the command's addresses and its clusters (`--cluster`, else the
 * parity shorthand with `defaults`), then refuses two that clash, each
 * mistake one UsageError, before anything starts.
 */
export function planEgress<K extends string>(
  fixed: Record<K, string>,
  flags: EgressFlags,
  defaults: { egress1: string; egress2: string },
): EgressPlan<K> {
  refuseMixedClusterFlags(flags);
  const named = flags.cluster !== undefined && flags.cluster.length > 0
    ? parseClusterFlags(flags.cluster)
    : undefined;
  const egress: Record<string, string> = named === undefined
    ? {
      egress1: flags.egress1 ?? defaults.egress1,
      egress2: flags.egress2 ?? defaults.egress2,
    }
    : Object.fromEntries(
      named.map((cluster) => [`cluster ${cluster.name}`, cluster.address]),
    );
  const all: Record<string, string> = { ...fixed, ...egress };
  const parsed = parseListenOptions(all);
  const fixedParsed = Object.fromEntries(
    Object.keys(fixed).map((key) => [key, parsed[key]]),
  ) as Record<K, HostPort>;
  if (named === undefined) {
    return { fixed: fixedParsed, egress: [parsed.egress1, parsed.egress2] };
  }
  const clusters = named.map((cluster) => ({
    name: cluster.name,
    address: parsed[`cluster ${cluster.name}`],
  }));
  return {
    fixed: fixedParsed,
    clusters,
    egress: [clusters[0].address, (clusters[1] ?? clusters[0]).address],
  };
}

/** The `--cluster` flags again, for the background process. */
export function clusterArgs(flags: EgressFlags): string[] {
  return (flags.cluster ?? []).flatMap((spec) => ["--cluster", spec]);
}

/** The parity example's cluster names: what the scaffolds name without `--cluster`. */
export const DEFAULT_CLUSTER_NAMES: readonly string[] = Object.freeze([
  ...DEFAULT_CONFIG.clusters,
]);

/** The longest DNS label (RFC 1035): 63 characters. */
export const MAX_LABEL_LENGTH = 63;

const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/**
 * The rule a cluster name of the Docker and Istio scaffolds follows, for
 * messages: a DNS label as Kubernetes checks a Service name (DNS-1035).
 */
export const CLUSTER_NAME_RULE =
  `a DNS label: lowercase letters, digits and "-", starting with a letter, ending with a letter or digit, at most ${MAX_LABEL_LENGTH} characters`;

/** Whether `name` is a DNS-1035 label (what a Kubernetes Service name must be). */
export function isDnsLabel(name: string): boolean {
  return name.length <= MAX_LABEL_LENGTH && DNS_1035_LABEL.test(name);
}

/** How a scaffold's cluster names are checked. */
export interface ClusterNameRules {
  /** What the name becomes there, for the message: `a Compose service and its DNS name`. */
  becomes: string;
  /** Names taken by the scaffold's own objects, each with what takes it. */
  taken?: Readonly<Record<string, string>>;
}

/**
 * The cluster names of `scaffold docker|istio --cluster NAME` (repeatable, the
 * first tcp_proxy's default), checked: each a DNS label (the names become
 * service names and DNS names, and a shell word in the egress's command), none
 * twice, none taken by the scaffold itself. Without any, the parity example's
 * `egress1`, `egress2`. Each mistake is one UsageError naming the rule.
 *
 * @example
 * ```ts
 * import { scaffoldClusterNames } from "./clusters.ts";
 * scaffoldClusterNames(["alpha", "beta"], { becomes: "a Compose service" });
 * // ["alpha", "beta"]
 * ```
 */
export function scaffoldClusterNames(
  names: readonly string[] | undefined,
  rules: ClusterNameRules,
): string[] {
  if (names === undefined || names.length === 0) {
    return [...DEFAULT_CLUSTER_NAMES];
  }
  const seen: string[] = [];
  for (const name of names) {
    if (!isDnsLabel(name)) {
      throw new UsageError(
        `--cluster ${
          quoteText(name)
        }: a cluster name becomes ${rules.becomes}, so it must be ${CLUSTER_NAME_RULE}`,
      );
    }
    const owner = rules.taken?.[name];
    if (owner !== undefined) {
      throw new UsageError(
        `--cluster ${
          quoteText(name)
        }: that name is taken by ${owner}; pick another`,
      );
    }
    if (seen.includes(name)) {
      throw new UsageError(
        `--cluster ${quoteText(name)} is given twice: name each cluster once`,
      );
    }
    seen.push(name);
  }
  return seen;
}

/** Whether `names` are the parity example's own `egress1`, `egress2`. */
export function areDefaultClusterNames(names: readonly string[]): boolean {
  return names.length === DEFAULT_CLUSTER_NAMES.length &&
    names.every((name, i) => name === DEFAULT_CLUSTER_NAMES[i]);
}

/**
 * The two clusters the flagship (parity) filter is given for `names`: the
 * first for even sources, the second for odd ones (the first again when only
 * one is named; names after the second are never chosen by it).
 */
export function parityPair(names: readonly string[]): [string, string] {
  return [names[0], names[1] ?? names[0]];
}

/**
 * The plugin configuration a scaffold gives the filter when `--config` is not
 * given: the flagship filter's own for these names, `standalone` for
 * `egress1`, `egress2`, else `{"clusters":[first,second]}`.
 *
 * @example
 * ```ts
 * import { parityConfiguration } from "./clusters.ts";
 * parityConfiguration(["egress1", "egress2"]); // "standalone"
 * parityConfiguration(["alpha", "beta"]); // '{"clusters":["alpha","beta"]}'
 * ```
 */
export function parityConfiguration(names: readonly string[]): string {
  return areDefaultClusterNames(names)
    ? "standalone"
    : JSON.stringify({ clusters: parityPair(names) });
}
