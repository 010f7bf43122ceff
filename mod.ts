/**
 * Wasmerang as a library: the proxy-wasm host that runs TCP filters the way
 * Envoy does, the routing facts of the flagship parity filter, the filter module
 * the tool carries, and the pieces behind each command.
 *
 * @example Drive one connection through the real filter
 * ```ts
 * import { embeddedFilter, ProxyWasmVm, ROOT_ID, TCP_PROXY_CLUSTER_KEY } from "./mod.ts";
 *
 * const vm = await ProxyWasmVm.load(embeddedFilter(), { rootId: ROOT_ID, configuration: "istio" });
 * const connection = vm.openConnection({ source: "10.0.0.3:5555", destination: "10.96.0.1:443" });
 * connection.filterState.get(TCP_PROXY_CLUSTER_KEY); // "outbound|443||egress2.default.svc.cluster.local"
 * connection.finish();
 * ```
 *
 * @module
 */

// The routing rule in plain TypeScript: what the filter decides, and its configuration.
export {
  decideCluster,
  DEFAULT_CONFIG,
  type FilterConfig,
  parseFilterConfig,
  portOf,
  ROOT_ID,
  type RoutingMode,
  sourceParity,
  TCP_PROXY_CLUSTER_KEY,
} from "./lib/routing.ts";

// The filter module: embedded in the tool, loaded from a file, or compiled from filter/.
export { embeddedFilter, loadFilter } from "./lib/filter_module.ts";
export {
  abiVersion,
  compileFilter,
  type CompileResult,
  missingExports,
  REQUIRED_EXPORTS,
} from "./lib/compiler.ts";

// Probe results, shared by every environment.
export {
  probeExitCode,
  type ProbeReport,
  probeReport,
  type ProbeResult,
  renderProbeReport,
} from "./lib/probe_report.ts";

// The result of running an external command (kind, kubectl, istioctl, docker).
export type { CommandResult } from "./lib/commands.ts";

// The mistake a user can fix: one line, an exit code.
export { UserError } from "./lib/errors.ts";

// The proxy-wasm host.
export * from "./host/mod.ts";

// The local data plane: egress servers, the proxy running the filter, the probe.
export * from "./dataplane/mod.ts";

/**
 * The Istio example: its manifests as data (`renderIstioFiles`), their
 * validation against the Kubernetes/Istio schemas and Envoy's protos, the
 * `up`/`down` plans as pure functions of the observed cluster, and the probe.
 *
 * @example Render and check the example without a cluster
 * ```ts
 * import { DEFAULT_ISTIO_SETTINGS, embeddedFilter, renderIstioFiles, validateIstioFiles } from "./mod.ts";
 * const files = renderIstioFiles({ ...DEFAULT_ISTIO_SETTINGS }, embeddedFilter());
 * validateIstioFiles(files); // []
 * ```
 */
export { renderIstioFiles } from "./environments/istio/files.ts";
export {
  DEFAULT_SETTINGS as DEFAULT_ISTIO_SETTINGS,
  filterConfiguration as istioFilterConfiguration,
  type IstioApi,
  type IstioSettings,
} from "./environments/istio/manifests.ts";
export { wasmTypedConfig as istioWasmTypedConfig } from "./environments/istio/filter_manifests.ts";
export {
  type ManifestIssue,
  renderManifestIssues,
  validateIstioFiles,
  validateManifest,
  validateYamlFile,
} from "./environments/istio/validate.ts";
export {
  type ClusterState,
  downPlan as istioDownPlan,
  FRESH_CLUSTER,
  observeCluster,
  upPlan as istioUpPlan,
} from "./environments/istio/plan.ts";
export {
  type IstioProbeOptions,
  type IstioProbeResult,
  probeIstio,
} from "./environments/istio/pod_probe.ts";
export { downIstio, type IstioDownOptions } from "./environments/istio/down.ts";
export {
  type IstioProbeTaskOptions,
  probeIstioReport,
} from "./environments/istio/probe.ts";
export {
  type IstioScaffoldOptions,
  scaffoldIstio,
} from "./environments/istio/scaffold.ts";
export { type IstioTargetOptions } from "./environments/istio/settings.ts";
export { type IstioUpOptions, upIstio } from "./environments/istio/up.ts";

/**
 * Envoy configuration checked against Envoy's own v3 API protos (from npm
 * `@grpc/grpc-js-xds`, pre-built into a descriptor): unknown fields, wrong
 * types, bad enum values and unresolvable `@type` URLs (recursively, through
 * `typed_config` and the wasm `configuration`) come back with their YAML path.
 *
 * @example
 * ```ts
 * import { checkEnvoyBootstrap, checkEnvoyMessage } from "./mod.ts";
 * checkEnvoyBootstrap("admin: {addres: {}}\n")[0].path; // "admin.addres"
 * checkEnvoyMessage("envoy.extensions.filters.network.wasm.v3.Wasm", { config: {} }); // []
 * ```
 */
export {
  BOOTSTRAP_TYPE,
  checkEnvoyBootstrap,
  checkEnvoyMessage,
  type CheckIssue,
  ENVOY_API_SOURCE,
  renderIssues,
  type Segment,
} from "./checker/envoy_check.ts";

/**
 * The prerequisites of each mode (docker, docker compose, a running engine,
 * kind, kubectl, istioctl): what `wasmerang doctor` reports, and the check
 * `up` makes before it writes or starts anything.
 *
 * @example
 * ```ts
 * import { checkTools, renderDoctor, requirePrerequisites } from "./mod.ts";
 * const docker = { name: "docker", needs: ["docker", "docker engine"] } as const;
 * console.log(renderDoctor(await checkTools(docker.needs), docker));
 * await requirePrerequisites(docker); // throws a UserError with the install hint
 * ```
 */
export {
  checkTools,
  INSTALL_HINTS,
  missingFrom,
  missingTools,
  type NeedsOf,
  renderDoctor,
  type RequireOptions,
  requirePrerequisites,
  type ToolName,
  TOOLS,
  type ToolStatus,
} from "./lib/prerequisites.ts";

/**
 * Running external commands, and plans of them that either print themselves
 * (`--dry-run`) or run step by step with a spinner.
 */
export {
  Plan,
  type PlanStep,
  runChecked,
  runCommand,
  type Runner,
  type RunOptions,
  runQuery,
  shellQuote,
} from "./lib/commands.ts";

/** Writing a scaffold folder: everything checked first, no half-written file, no silent overwrite. */
export {
  planScaffold,
  renderWritten,
  type ScaffoldFile,
  writeScaffold,
  type WrittenFile,
} from "./lib/scaffold_files.ts";

/**
 * The Docker example (Envoy + the filter + egress1/egress2 in Docker Compose):
 * its files, the `up`/`down` plans, and the probe.
 *
 * @example Render the example and print what `up docker` would do
 * ```ts
 * import { dockerScaffoldFiles, dockerUpPlan, embeddedFilter } from "./mod.ts";
 * const files = dockerScaffoldFiles({ wasm: embeddedFilter(), subnet: "172.21.0.0/16" });
 * console.log((await dockerUpPlan({ dir: "envoy-docker" })).render());
 * ```
 */
export {
  DOCKER_FILES,
  type DockerFilesOptions,
  dockerScaffoldFiles,
  type DockerScaffoldOptions,
  scaffoldDocker,
} from "./environments/docker/scaffold.ts";
export {
  composeYaml,
  type DockerTemplateOptions,
  ENVOY_ACCESS_LOG_FORMAT,
  envoyYaml,
} from "./environments/docker/templates.ts";
export {
  DEFAULT_ENVOY_IMAGE,
  DEFAULT_SUBNET,
  type DockerNetwork,
  dockerNetwork,
  LISTENER_PORT as DOCKER_LISTENER_PORT,
  NETWORK_NAME as DOCKER_NETWORK_NAME,
} from "./environments/docker/network.ts";
export {
  type DockerUpOptions,
  dockerUpPlan,
  upDocker,
} from "./environments/docker/up.ts";
export {
  type DockerDownOptions,
  dockerDownPlan,
  downDocker,
} from "./environments/docker/down.ts";
export {
  type DockerProbeOptions,
  probeDocker,
} from "./environments/docker/probe.ts";

// A native Envoy: finding it, the bootstrap shared with the Docker example, and the envoy environment.
export {
  ENVOY_INSTALL_HINT,
  type EnvoyBinary,
  findEnvoy,
  hasV8,
  MIN_ENVOY,
  requireEnvoy,
} from "./lib/envoy/binary.ts";
export {
  type BootstrapCluster,
  type BootstrapOptions,
  envoyBootstrap,
} from "./lib/envoy/bootstrap.ts";
export {
  CUSTOM_STAT_PREFIX,
  ENVOY_DEFAULTS,
  type EnvoyPlane,
  type EnvoyPlaneOptions,
  filterCounters,
  startEnvoyPlane,
} from "./environments/envoy/plane.ts";
export {
  envoyErrorLine,
  type EnvoyProcess,
  type EnvoyProcessOptions,
  filterLogMessage,
  startEnvoy,
} from "./lib/envoy/process.ts";
export { downEnvoy } from "./environments/envoy/down.ts";
export {
  type EnvoyProbeOptions,
  probeEnvoy,
} from "./environments/envoy/probe.ts";
export { type EnvoyUpOptions, upEnvoy } from "./environments/envoy/up.ts";
