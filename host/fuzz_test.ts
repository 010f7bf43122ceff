// Fuzz the real filter through the host, short rounds (host/testing/fuzz.ts
// says what is checked; host/fuzz_soak.ts runs long ones). The seed is in each
// test's name; WASMERANG_FUZZ_SEED=<n> replays a run.
import { FUZZ_SEED } from "../testing/fuzz_seed.ts";
import { fuzzMemory, fuzzThroughHost } from "./testing/fuzz.ts";

Deno.test(`fuzz: 300 random configurations, addresses and data through the host (seed ${FUZZ_SEED})`, async () => {
  await fuzzThroughHost(FUZZ_SEED, 300);
});

Deno.test(`fuzz: 3,000 random connections on one VM keep its memory bounded (seed ${FUZZ_SEED})`, async () => {
  await fuzzMemory(FUZZ_SEED, 3_000);
});
