// The bigger generator fuzz (`deno task test:soak`): many random up-envoy
// inputs, each refused in one line or accepted by a real Envoy (validate
// mode, which runs the filter) with exactly wasm then tcp_proxy and the
// intended clusters; every 25th accepted one also started for real and read
// back through admin /config_dump. WASMERANG_FUZZ_SEED replays a run;
// WASMERANG_BOOTSTRAP_FUZZ_CASES sets the count (default 600).
import assert from "node:assert/strict";
import { FUZZ_SEED } from "../../testing/fuzz_seed.ts";
import { testEnvoy } from "../../testing/envoy.ts";
import { runGeneratorFuzz } from "./bootstrap_fuzz.ts";

const envoy = await testEnvoy();
const CASES = Number(Deno.env.get("WASMERANG_BOOTSTRAP_FUZZ_CASES") ?? 600);

Deno.test({
  name:
    `${CASES} random up-envoy inputs through every generator, against a real Envoy (seed ${FUZZ_SEED})`,
  ignore: envoy === undefined,
  async fn() {
    const counts = await runGeneratorFuzz(envoy!, FUZZ_SEED, CASES, 25);
    console.log(`bootstrap fuzz: ${JSON.stringify(counts)}`);
    assert.equal(counts.accepted + counts.refused, CASES);
    assert.ok(counts.accepted > 0 && counts.refused > 0);
  },
});
