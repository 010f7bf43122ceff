/** `wasmerang down istio`: delete what `up` made, or the whole kind cluster. */
import { missingTools, requirePrerequisites } from "../../lib/prerequisites.ts";
import { ISTIO_NEEDS } from "./needs.ts";
import { hint } from "../../lib/ui.ts";
import { downPlan, FRESH_CLUSTER, observeCluster } from "./plan.ts";
import { type IstioTargetOptions, targetSettings } from "./settings.ts";

/** Options of `down istio`. */
export interface IstioDownOptions extends IstioTargetOptions {
  /** Delete the whole kind cluster. */
  cluster?: boolean;
  /** Print the plan; run nothing. */
  dryRun?: boolean;
}

/** `down istio`: deletes what `up` made (or the kind cluster with `cluster`). */
export async function downIstio(options: IstioDownOptions = {}): Promise<void> {
  const settings = await targetSettings(options);
  if (options.dryRun) {
    const missing = await missingTools(ISTIO_NEEDS.needs);
    const state = missing.length === 0 ? await observeCluster(settings) : {
      ...FRESH_CLUSTER,
      clusterExists: true,
      namespaceExists: true,
      istioCrds: true,
      injectionEnabled: true,
    };
    console.log(downPlan(settings, state, options).render());
    return;
  }
  await requirePrerequisites(ISTIO_NEEDS, {
    only: { tools: ["kind", "kubectl"], command: "down istio" },
  });
  const state = await observeCluster(settings);
  await downPlan(settings, state, options).execute();
  if (!options.cluster && state.clusterExists) {
    hint(
      `Istio stays installed in kind-${settings.clusterName}; 'wasmerang down istio --cluster' deletes the whole cluster.`,
    );
  }
}
