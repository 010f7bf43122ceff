// The seed of every randomized test in a run: WASMERANG_FUZZ_SEED when set
// (to replay a failure), else a fresh random one. Tests put it in their names
// so that `deno test` prints it.

function seedFromEnv(): number {
  const text = Deno.env.get("WASMERANG_FUZZ_SEED");
  if (text === undefined || text === "") {
    return Math.floor(Math.random() * 2 ** 31);
  }
  const seed = Number(text);
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new Error(
      `WASMERANG_FUZZ_SEED must be a non-negative integer, not ${
        JSON.stringify(text)
      }`,
    );
  }
  return seed;
}

/** This run's fuzz seed. */
export const FUZZ_SEED: number = seedFromEnv();
