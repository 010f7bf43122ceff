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
export { renderIstioFiles } from "./lib/istio/files.ts";
export {
  DEFAULT_SETTINGS as DEFAULT_ISTIO_SETTINGS,
  filterConfiguration as istioFilterConfiguration,
  type IstioSettings,
  wasmTypedConfig as istioWasmTypedConfig,
} from "./lib/istio/manifests.ts";
export {
  type ManifestIssue,
  renderManifestIssues,
  validateIstioFiles,
  validateManifest,
  validateYamlFile,
} from "./lib/istio/validate.ts";
export {
  type ClusterState,
  downPlan as istioDownPlan,
  FRESH_CLUSTER,
  observeCluster,
  type PlannedStep,
  renderPlan as renderIstioPlan,
  type Runner,
  upPlan as istioUpPlan,
} from "./lib/istio/plan.ts";
export {
  type IstioProbeOptions,
  type IstioProbeResult,
  probeIstio,
} from "./lib/istio/probe.ts";
export {
  downIstio,
  type IstioDownOptions,
  type IstioProbeTaskOptions,
  type IstioScaffoldOptions,
  type IstioTargetOptions,
  type IstioUpOptions,
  probeIstioReport,
  scaffoldIstio,
  upIstio,
} from "./lib/istio/mode.ts";
