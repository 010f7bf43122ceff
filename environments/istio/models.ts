/**
 * The Kubernetes and Istio model classes the Istio example uses, loaded in one
 * place between `deprecation_warnings_off.ts` and `deprecation_warnings_restore.ts` (ES modules evaluate in
 * import order), so their loading prints no deprecation warning.
 */
import "./deprecation_warnings_off.ts";
export { ConfigMap } from "kubernetes-models/v1/ConfigMap";
export { Service } from "kubernetes-models/v1/Service";
export { Deployment } from "kubernetes-models/apps/v1/Deployment";
export { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
export { EnvoyFilter } from "@kubernetes-models/istio/networking.istio.io/v1alpha3/EnvoyFilter";
export { WasmPlugin } from "@kubernetes-models/istio/extensions.istio.io/v1alpha1/WasmPlugin";
export { Sidecar } from "@kubernetes-models/istio/networking.istio.io/v1/Sidecar";
export type { ISecurityContext } from "kubernetes-models/v1/SecurityContext";
export type { IServicePort } from "kubernetes-models/v1/ServicePort";
export type { IResourceRequirements } from "kubernetes-models/v1/ResourceRequirements";
import "./deprecation_warnings_restore.ts";
