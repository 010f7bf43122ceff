/**
 * The files of the Docker example, built in code (no template is read from
 * disk at run time, so a compiled binary carries them): docker-compose.yaml and
 * envoy.yaml as data written by the YAML library, and the folder's README.
 */
import { quoteText, ROOT_ID } from "../../lib/routing.ts";
import { envoyBootstrap } from "../../lib/envoy/bootstrap.ts";
import { writeYaml } from "../../lib/yaml_safe.ts";
import {
  areDefaultClusterNames,
  DEFAULT_CLUSTER_NAMES,
  parityConfiguration,
  parityPair,
} from "../../lib/clusters.ts";
import {
  ADMIN_PORT,
  BUSYBOX_IMAGE,
  COMPOSE_PROJECT,
  DEFAULT_DIR,
  type DockerNetwork,
  EGRESS_PORT,
  LISTENER_PORT,
  NETWORK_NAME,
} from "./network.ts";

/** The plugin configuration envoy.yaml gives the filter of the parity example. */
export const DOCKER_CONFIGURATION = "standalone";

/** The Compose service that runs Envoy: no cluster may take its name. */
export const ENVOY_SERVICE = "envoy";

/** The access log line, the same fields the local mode prints. */
export { ENVOY_ACCESS_LOG_FORMAT } from "../../lib/envoy/bootstrap.ts";

/** Where the .wasm sits in the scaffold folder and in the Envoy container. */
export const WASM_FILE = "wasmerang.wasm";
export const WASM_IN_CONTAINER = `/etc/envoy/${WASM_FILE}`;

/**
 * The variable `up docker` sets to the sha256 of envoy.yaml and the module
 * when it runs `docker compose up -d`: Compose recreates Envoy exactly when
 * the files differ from those the running Envoy started with.
 */
export const FILES_SHA256_VARIABLE = "WASMERANG_FILES_SHA256";

/** What the templates need. */
export interface DockerTemplateOptions {
  /** The Envoy image the compose file runs, e.g. `envoyproxy/envoy:v1.40.0`. */
  envoyImage: string;
  /** The compose network's subnet and the addresses taken in it. */
  network: DockerNetwork;
  /**
   * The clusters, one egress service each, the first tcp_proxy's default
   * (default `egress1`, `egress2`). Checked names (lib/clusters.ts
   * `scaffoldClusterNames`): each is a Compose service, a DNS name and a
   * shell word in its egress's command.
   */
  clusters?: readonly string[];
  /** The filter's plugin configuration (default: the flagship's for the clusters). */
  configuration?: string;
  /** The root id the filter starts under (default `wasmerang`). */
  rootId?: string;
}

function clustersOf(
  options: Pick<DockerTemplateOptions, "clusters">,
): readonly string[] {
  return options.clusters ?? DEFAULT_CLUSTER_NAMES;
}

/** docker-compose.yaml as data, exactly what {@link composeYaml} writes. */
export function composeData(
  options: DockerTemplateOptions,
): Record<string, unknown> {
  const { envoyImage, network } = options;
  const clusters = clustersOf(options);
  const egress = (name: string, ip: string) => ({
    image: BUSYBOX_IMAGE,
    command: [
      "tcpsvd",
      "-v",
      "0.0.0.0",
      `${EGRESS_PORT}`,
      "sh",
      "-c",
      `echo ${name}; exec cat`,
    ],
    networks: { wasmerang: { ipv4_address: ip } },
  });
  return {
    name: COMPOSE_PROJECT,
    services: {
      envoy: {
        image: envoyImage,
        command: [
          "envoy",
          "-c",
          "/etc/envoy/envoy.yaml",
          "--log-level",
          "info",
          "--component-log-level",
          "wasm:debug",
          "--file-flush-interval-msec",
          "250",
        ],
        // docker's init runs as PID 1 and passes SIGTERM on: Envoy stops at
        // once even when the signal comes before its handlers are in place.
        init: true,
        environment: {
          [FILES_SHA256_VARIABLE]: `\${${FILES_SHA256_VARIABLE}:-}`,
        },
        volumes: [
          "./envoy.yaml:/etc/envoy/envoy.yaml:ro",
          `./${WASM_FILE}:${WASM_IN_CONTAINER}:ro`,
        ],
        ports: [
          `127.0.0.1:${LISTENER_PORT}:${LISTENER_PORT}`,
          `127.0.0.1:${ADMIN_PORT}:${ADMIN_PORT}`,
        ],
        networks: { wasmerang: { ipv4_address: network.envoy } },
        depends_on: [...clusters],
      },
      ...Object.fromEntries(
        clusters.map((name, i) => [name, egress(name, network.egresses[i])]),
      ),
    },
    networks: {
      wasmerang: {
        name: NETWORK_NAME,
        ipam: { config: [{ subnet: network.subnet }] },
      },
    },
  };
}

/** The configuration the filter gets: `--config`, else the flagship's for the clusters. */
export function configurationOf(
  options: Pick<DockerTemplateOptions, "clusters" | "configuration">,
): string {
  return options.configuration ?? parityConfiguration(clustersOf(options));
}

/** The compose file's opening lines about the egresses and the filter's choice. */
function composeStory(options: DockerTemplateOptions): string {
  const clusters = clustersOf(options);
  if (
    areDefaultClusterNames(clusters) &&
    configurationOf(options) === DOCKER_CONFIGURATION &&
    (options.rootId ?? ROOT_ID) === ROOT_ID
  ) {
    return "Written by `wasmerang scaffold docker`. Envoy runs the wasmerang filter in front of\n" +
      "two egress services; the filter picks egress1 (even) or egress2 (odd) by the last\n" +
      "octet of the client's source address and tcp_proxy connects there.\n";
  }
  return "Written by `wasmerang scaffold docker`. Envoy runs the filter in front of one egress\n" +
    `service per cluster (${
      clusters.join(", ")
    }); the filter picks the cluster of each\n` +
    `connection and tcp_proxy connects there (to ${
      clusters[0]
    }, its default, when the filter picks none).\n`;
}

/**
 * docker-compose.yaml: Envoy, one egress service per cluster and a network
 * with a fixed subnet, written from {@link composeData} by the YAML library
 * (the image, names and addresses are scalars it quotes as needed; the
 * comments are fixed text).
 */
export function composeYaml(options: DockerTemplateOptions): string {
  const envoy = ["services", "envoy"];
  const clusters = clustersOf(options);
  return writeYaml(composeData(options), {
    comments: [
      {
        path: [],
        before: composeStory(options) +
          "\n" +
          "  wasmerang up docker      start it (or: docker compose up -d, in this folder)\n" +
          "  wasmerang probe docker   connect from chosen source IPs and see who answers\n" +
          "  wasmerang down docker    stop it and remove everything it made\n" +
          "\n" +
          "Every port is published on 127.0.0.1 only.",
      },
      {
        path: [...envoy, "command"],
        before:
          "wasm:debug: the filter writes one decision line per connection (docker compose logs envoy);\n" +
          "the access log is flushed every 250 ms (Envoy buffers it off a terminal).",
      },
      {
        path: [...envoy, "environment"],
        before:
          "`wasmerang up docker` sets this to the sha256 of envoy.yaml and the module, so Compose\n" +
          "recreates Envoy exactly when they changed (Envoy reads both only when it starts).",
      },
      {
        path: [...envoy, "ports", 0],
        after: "the listener: wasm filter, then tcp_proxy",
      },
      {
        path: [...envoy, "ports", 1],
        after: "Envoy's admin: /ready, /stats, /clusters",
      },
      ...clusters.map((name) => ({
        path: ["services", name, "command"],
        before:
          "busybox tcpsvd runs the command once per connection with the socket as its\n" +
          "stdin/stdout: one line naming this service, then an echo of what the client sends.",
      })),
      {
        path: ["networks", "wasmerang", "name"],
        before:
          "A fixed name and subnet: `wasmerang probe docker` starts short-lived containers\n" +
          `on this network with chosen addresses (docker run --network ${NETWORK_NAME} --ip …).`,
      },
    ],
    flow: [
      ...["envoy", ...clusters].map((name) => [
        "services",
        name,
        "command",
      ]),
      [...envoy, "depends_on"],
    ],
    spaceBefore: [
      ["services"],
      ...clusters.map((name) => ["services", name]),
      ["networks"],
    ],
  });
}

/**
 * envoy.yaml: one listener, the wasm filter then tcp_proxy (default cluster
 * the first), one STRICT_DNS cluster per name, each the egress service of
 * that name (egress1/egress2 by default).
 */
export function envoyYaml(
  options: Pick<
    DockerTemplateOptions,
    "clusters" | "configuration" | "rootId"
  > = {},
): string {
  const clusters = clustersOf(options);
  return envoyBootstrap({
    writtenBy: "wasmerang scaffold docker",
    checkCommand: "wasmerang check envoy.yaml",
    admin: { address: "0.0.0.0", port: ADMIN_PORT },
    listener: { address: "0.0.0.0", port: LISTENER_PORT },
    configuration: configurationOf(options),
    rootId: options.rootId ?? ROOT_ID,
    wasmFilename: WASM_IN_CONTAINER,
    clusters: clusters.map((name) => ({
      name,
      address: name,
      port: EGRESS_PORT,
    })),
    clusterType: "STRICT_DNS",
  });
}

/** The folder's README. */
export function readme(options: DockerTemplateOptions): string {
  const { envoyImage, network } = options;
  const clusters = clustersOf(options);
  const configuration = configurationOf(options);
  const rootId = options.rootId ?? ROOT_ID;
  const parity = rootId === ROOT_ID &&
    configuration === parityConfiguration(clusters);
  const [even, odd] = parityPair(clusters);
  const [first] = clusters;
  const oddAddress = network.egresses[clusters.indexOf(odd)];
  const code = (name: string) => `\`${name}\``;
  const listed = clusters.length === 2
    ? `${code(clusters[0])} and ${code(clusters[1])}`
    : clusters.map(code).join(", ");
  const title = areDefaultClusterNames(clusters)
    ? "two egresses"
    : `${clusters.length === 1 ? "one egress" : `${clusters.length} egresses`}`;
  const evenNote = parity ? `   # even source: ${even}` : "";
  const oddNote = parity ? `   # odd source: ${odd}` : "";
  const choice = parity
    ? `- The filter reads \`source.address\` on each new connection. An even last octet sends it to
  \`${even}\`, an odd one to \`${odd}\`; tcp_proxy's own \`cluster: ${first}\` is the fallback
  when the filter makes no choice.`
    : `- The filter decides each connection with the configuration in envoy.yaml
  (${
      quoteText(configuration)
    }); tcp_proxy's own \`cluster: ${first}\` is the fallback when it makes no
  choice. \`wasmerang probe docker\` shows what it chose.`;
  const gatewayNote = parity
    ? `(\`${network.gateway}\` here, odd:
  \`${odd}\`)`
    : `(\`${network.gateway}\` here)`;
  const addresses = clusters.map((name, i) => `${name} ${network.egresses[i]}`)
    .join(", ");
  return `# wasmerang in Docker: Envoy + the filter + ${title}

Written by \`wasmerang scaffold docker\`. Everything here is plain Docker Compose and
Envoy configuration: read it, edit it, run it with or without wasmerang.

| file | what it is |
| --- | --- |
| \`docker-compose.yaml\` | Envoy (\`${envoyImage}\`), ${listed} (\`${BUSYBOX_IMAGE}\`), network \`${NETWORK_NAME}\` (\`${network.subnet}\`) |
| \`envoy.yaml\` | listener :${LISTENER_PORT} → \`envoy.filters.network.wasm\` → \`envoy.filters.network.tcp_proxy\` (default cluster \`${first}\`); admin :${ADMIN_PORT} |
| \`${WASM_FILE}\` | the filter (proxy-wasm, root id \`${rootId}\`), mounted read-only at \`${WASM_IN_CONTAINER}\` |

## Run it

From this folder (or from anywhere, with \`--dir\` naming it; without \`--dir\` the commands use
\`./${DEFAULT_DIR}\`):

\`\`\`sh
wasmerang up docker --dir .       # checks docker and the ports, docker compose up -d, waits for Envoy's /ready
wasmerang probe docker --dir .    # one short-lived container per source IP on ${NETWORK_NAME}
wasmerang down docker --dir .     # docker compose down --volumes --remove-orphans
\`\`\`

Without wasmerang:

\`\`\`sh
docker compose up -d
curl -s 127.0.0.1:${ADMIN_PORT}/ready      # LIVE once Envoy is ready
docker run --rm --network ${NETWORK_NAME} --ip ${
    network.probeSources[0]
  } ${BUSYBOX_IMAGE} \\
  nc -w 5 ${network.envoy} ${LISTENER_PORT} </dev/null${evenNote}
docker run --rm --network ${NETWORK_NAME} --ip ${
    network.probeSources[1]
  } ${BUSYBOX_IMAGE} \\
  nc -w 5 ${network.envoy} ${LISTENER_PORT} </dev/null${oddNote}
docker compose logs envoy                 # the filter's log lines and the access log
docker compose down --volumes --remove-orphans
\`\`\`

## What to expect

${choice}
- Each egress answers every connection with one line naming itself (\`${first}\`), then echoes.
- A connection from the host to \`127.0.0.1:${LISTENER_PORT}\` reaches Envoy through Docker's port
  publishing, so Envoy sees the source as the network's gateway ${gatewayNote} or the host's bridge address, not 127.0.0.1. To choose the source, connect from
  a container on \`${NETWORK_NAME}\` with \`--ip\`, as \`wasmerang probe docker\` does.
- The access log (\`docker compose logs envoy\`) has one line per connection:
  \`[time] cluster=${odd} src=${
    network.probeSources[1]
  }:40112 dst=${network.envoy}:${LISTENER_PORT} -> ${oddAddress}:${EGRESS_PORT} bytes=0/8 3ms flags=-\`
  (\`flags\` are Envoy's response flags: \`UF\` when the upstream connect failed).
- Addresses: gateway ${network.gateway}, envoy ${network.envoy}, ${addresses}; probe sources
  default to ${network.probeSources.join(", ")}.

## Editing

- \`wasmerang check envoy.yaml\` checks the file against Envoy's own API protos: unknown fields,
  wrong types, bad enum values and unknown \`@type\` URLs are reported with their YAML path.
- To run your own build of the filter: \`wasmerang up docker --dir . --wasm path/to/filter.wasm\`
  (it replaces \`${WASM_FILE}\`), or copy it over \`${WASM_FILE}\` and \`docker compose restart envoy\`.
  A filter project from \`wasmerang new\`: \`wasmerang scaffold docker --filter DIR\` builds it when its
  sources changed and writes its module and its root id (envoy.yaml's \`root_id\`, which must name
  the filter's \`registerRootContext\`).
- Envoy reads \`envoy.yaml\` and the module only when it starts. \`wasmerang up docker\` passes their
  sha256 to Compose (\`WASMERANG_FILES_SHA256\`), so after an edit the next \`up\` recreates Envoy
  once, and with nothing changed it leaves Envoy running.
- The compose project is \`wasmerang\` whatever the folder: \`up\` and \`down\` refuse to act while
  another folder's example runs, and name that folder.
- The filter's configuration is the \`configuration\` StringValue: \`standalone\`, or JSON such as
  \`{"clusters": ["${even}", "${odd}"]}\`. An invalid one makes Envoy reject the filter.
- Other cluster names: \`wasmerang scaffold docker --cluster NAME\` (repeatable, the first is
  tcp_proxy's default) writes one egress service and one Envoy cluster per name, and
  \`--config\` the filter's configuration (default: the embedded filter's for those names).
- Envoy needs version 1.28 or newer (the foreign function \`set_envoy_filter_state\`).
`;
}
