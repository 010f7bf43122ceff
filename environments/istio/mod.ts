/** The istio environment: a kind cluster with Istio, the filter in the sidecars. */
import type { Environment } from "../environment.ts";
import { MODE_NEEDS } from "../../lib/prerequisites.ts";
import { downIstio, type IstioDownOptions } from "./down.ts";
import { type IstioProbeTaskOptions, probeIstioReport } from "./probe.ts";
import { type IstioScaffoldOptions, scaffoldIstio } from "./scaffold.ts";
import { type IstioUpOptions, upIstio } from "./up.ts";

/** `scaffold|up|probe|down istio`. */
export const istio = {
  name: "istio",
  needs: MODE_NEEDS.istio,
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
