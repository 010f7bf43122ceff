// Fuzz the filter's configuration reader in the real .wasm: deep nesting, big
// sizes and byte garbage. Whatever the bytes, proxy_on_configure accepts or
// refuses with one error line; it never traps. Where the text is one the
// TypeScript rules (lib/routing.ts) can read, both agree on accept or refuse.
// The seed is printed (WASMERANG_FUZZ_SEED=<n> replays a run);
// WASMERANG_CONFIG_FUZZ_ITERATIONS sets the count (the soak runs more).
import assert from "node:assert/strict";
import { embeddedFilter } from "../lib/filter_module.ts";
import {
  MAX_CONFIG_DEPTH,
  MAX_CONFIG_LENGTH,
  parseFilterConfig,
  ROOT_ID,
} from "../lib/routing.ts";
import { ConfigurationRejectedError, ProxyWasmVm } from "./mod.ts";
import { random } from "./testing/fuzz.ts";

const SEED = Number(
  Deno.env.get("WASMERANG_FUZZ_SEED") ?? Math.floor(Math.random() * 2 ** 31),
);
const ITERATIONS = Number(
  Deno.env.get("WASMERANG_CONFIG_FUZZ_ITERATIONS") ?? 60,
);
console.log(
  `config fuzz: seed ${SEED}, ${ITERATIONS} iterations (WASMERANG_FUZZ_SEED=${SEED} replays it)`,
);

const next = random(SEED);
const int = (n: number) => Math.floor(next() * n);
const pick = <T>(items: readonly T[]): T => items[int(items.length)];
const KEYS = ["mode", "clusters", "namespace", "domain", "port"];

/** `depth` arrays or objects around `inner`, balanced or not. */
function nested(depth: number, inner: string, balanced: boolean): string {
  const opens: string[] = [];
  for (let i = 0; i < depth; i++) opens.push(pick(["[", '{"k":']));
  const closes = opens.map((open) => (open === "[" ? "]" : "}")).reverse();
  const tail = balanced ? closes.join("") : closes.slice(int(depth)).join("");
  return opens.join("") + inner + tail;
}

/** One hostile configuration, as text or raw bytes. */
function configuration(): string | Uint8Array {
  switch (int(7)) {
    case 0: // deep nesting under a key the reader follows
      return `{"${pick(KEYS)}":${
        nested(
          pick([
            MAX_CONFIG_DEPTH - 2,
            MAX_CONFIG_DEPTH - 1,
            MAX_CONFIG_DEPTH,
            int(200),
            int(20_000),
          ]),
          pick(['"x"', "1", "null", ""]),
          int(3) > 0,
        )
      }}`;
    case 1: // sizes around and far beyond the limit
      return `{"namespace":"${
        "n".repeat(
          pick([
            MAX_CONFIG_LENGTH - 16,
            MAX_CONFIG_LENGTH - 15,
            MAX_CONFIG_LENGTH,
            int(400_000),
          ]),
        )
      }"}`;
    case 2: // byte garbage, sometimes behind a plausible start
      return Uint8Array.from(
        [...(int(2) ? new TextEncoder().encode('{"mode":') : [])].concat(
          Array.from({ length: int(300) }, () => int(256)),
        ),
      );
    case 3: // a long run of one structural character
      return pick(["{", "[", '{"mode":[', '{"clusters":[', "{{", '"']).repeat(
        int(50_000),
      );
    case 4: // long strings with escapes, truncated or not
      return `{"domain":"${"\\u00e9\\n\\\\".repeat(int(3000))}${
        pick(['"}', "", '"', "\\"])
      }`;
    case 5: // many keys
      return `{${
        Array.from(
          { length: int(4000) },
          () => `"${pick(KEYS)}":${pick(['"istio"', "[]", "{}", "8080"])}`,
        ).join(",")
      }}`;
    default: // valid JSON, nested just within or beyond the limit
      return JSON.stringify({
        mode: "istio",
        clusters: ["a", "b"],
        [pick(["namespace", "domain", "mode"])]: JSON.parse(
          nested(MAX_CONFIG_DEPTH - 3 + int(4), "1", true),
        ),
      });
  }
}

function typescriptAccepts(text: string): boolean | undefined {
  try {
    parseFilterConfig(text);
    return true;
  } catch (error) {
    return error instanceof RangeError ? undefined : false;
  }
}

Deno.test(`config fuzz: hostile configurations never trap proxy_on_configure (seed ${SEED})`, async () => {
  const module = await WebAssembly.compile(embeddedFilter());
  let refused = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const config = configuration();
    const shown = typeof config === "string"
      ? `${JSON.stringify(config.slice(0, 80))} (${config.length} chars)`
      : `${config.length} random bytes`;
    const where = `seed ${SEED}, iteration ${i}: ${shown}`;
    let accepted: boolean;
    try {
      const vm = await ProxyWasmVm.load(module, {
        rootId: ROOT_ID,
        configuration: config,
      });
      vm.close();
      accepted = true;
    } catch (error) {
      assert.ok(
        error instanceof ConfigurationRejectedError,
        `${where}: ${error}`,
      );
      assert.equal(
        error.filterMessages.length,
        1,
        `${where}: one error line, got ${JSON.stringify(error.filterMessages)}`,
      );
      accepted = false;
      refused++;
    }
    if (typeof config === "string") {
      const expected = typescriptAccepts(config);
      if (expected !== undefined) {
        assert.equal(accepted, expected, `${where}: filter and rules disagree`);
      }
    }
  }
  assert.ok(refused > 0, `seed ${SEED}: nothing was refused`);
});

Deno.test("config: nesting just within the limit is read, one level deeper is refused", async () => {
  const within = `{"mode":${"[".repeat(MAX_CONFIG_DEPTH - 1)}${
    "]".repeat(MAX_CONFIG_DEPTH - 1)
  }}`;
  const beyond = `{"mode":${"[".repeat(MAX_CONFIG_DEPTH)}${
    "]".repeat(MAX_CONFIG_DEPTH)
  }}`;
  const reason = async (configuration: string) => {
    try {
      await ProxyWasmVm.load(embeddedFilter(), {
        rootId: ROOT_ID,
        configuration,
      });
      return "accepted";
    } catch (error) {
      return (error as ConfigurationRejectedError).filterMessages.join("\n");
    }
  };
  assert.match(await reason(within), /"mode" must be "standalone" or "istio"/);
  assert.match(await reason(beyond), /nested deeper than 32 levels/);
  assert.match(
    await reason(`{"clusters":${"[".repeat(100_000)}`),
    /longer than 65536 characters/,
  );
  assert.match(
    await reason(`{"clusters":${"[".repeat(60_000)}`),
    /nested deeper than 32 levels/,
  );
});
