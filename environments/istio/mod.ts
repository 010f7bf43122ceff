/** The istio environment: a kind cluster with Istio, the filter in the sidecars. */
import type { Environment } from "../environment.ts";
import { ISTIO_OPTIONS } from "./options.ts";
import { ISTIO_NEEDS } from "./needs.ts";
import { downIstio, type IstioDownOptions } from "./down.ts";
import { type IstioProbeTaskOptions, probeIstioReport } from "./probe.ts";
import { type IstioScaffoldOptions, scaffoldIstio } from "./scaffold.ts";
import { type IstioUpOptions, upIstio } from "./up.ts";

/** `scaffold|up|probe|down istio`. */
export const istio = {
  ...ISTIO_NEEDS,
  options: ISTIO_OPTIONS,
  scaffold: scaffoldIstio,
  up: upIstio,
  probe: probeIstioReport,
  down: downIstio,
} satisfies Environment<
  IstioUpOptions,
  IstioProbeTaskOptions,
  IstioDownOptions,
  IstioScaffoldOptions
>;
