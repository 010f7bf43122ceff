/** Reading Envoy's output: its log lines, its error line, its version (lines as Envoy 1.40.0 wrote them). */
import { assertEquals } from "../../host/testing/assert.ts";
import { parseEnvoyVersion, supportsFilterState } from "./binary.ts";
import { envoyErrorLine, filterLogMessage } from "./process.ts";

const DECISION =
  "[2026-11-30 23:42:07.702][13139][debug][wasm] [source/extensions/common/wasm/context.cc:1148] wasm log wasmerang wasmerang wasmerang: wasmerang: connection 2 source=127.0.0.4:46013 destination=127.0.0.1:33883 -> egress1 (even, set_envoy_filter_state Ok)";
const REFUSED = [
  "[2026-11-30 22:30:43.030][6016][info][config] [source/server/configuration_impl.cc:148] loading 1 listener(s)",
  '[2026-11-30 22:30:43.134][6016][error][wasm] [source/extensions/common/wasm/context.cc:1157] wasm log wasmerang wasmerang: wasmerang: invalid configuration: unknown key "bogus"',
  "[2026-11-30 22:30:43.134][6016][error][wasm] [source/extensions/common/wasm/wasm.cc:104] Wasm VM failed Failed to configure base Wasm plugin",
  "[2026-11-30 22:30:43.159][6016][critical][wasm] [source/extensions/common/wasm/wasm.cc:626] Plugin wasmerang failed to load",
  "[2026-11-30 22:30:43.239][6016][info][main] [source/server/server.cc:1159] exiting",
  "Unable to create Wasm plugin wasmerang",
];

Deno.test("a filter's log line in Envoy's log: level and message", () => {
  assertEquals(filterLogMessage(DECISION), {
    level: "debug",
    message:
      "wasmerang: connection 2 source=127.0.0.4:46013 destination=127.0.0.1:33883 -> egress1 (even, set_envoy_filter_state Ok)",
  });
  assertEquals(filterLogMessage(REFUSED[0]), undefined);
  assertEquals(
    filterLogMessage("Unable to create Wasm plugin wasmerang"),
    undefined,
  );
});

Deno.test("Envoy's error line: the first error, the filter's words first; else a bare last line", () => {
  assertEquals(
    envoyErrorLine(REFUSED),
    'wasmerang: invalid configuration: unknown key "bogus"',
  );
  assertEquals(
    envoyErrorLine([REFUSED[0], "cannot bind 127.0.0.1:9901"]),
    "cannot bind 127.0.0.1:9901",
  );
  assertEquals(envoyErrorLine([REFUSED[0], REFUSED[4]]), undefined);
});

Deno.test("envoy --version: the version, and whether set_envoy_filter_state exists", () => {
  const text =
    "\n/usr/local/bin/envoy  version: 9e5580933739775e8bce696a57a2e1bc99368f23/1.40.0/Clean/RELEASE/BoringSSL\n";
  assertEquals(parseEnvoyVersion(text), "1.40.0");
  assertEquals(supportsFilterState("1.40.0"), true);
  assertEquals(supportsFilterState("1.28.0"), true);
  assertEquals(supportsFilterState("1.27.9"), false);
  assertEquals(supportsFilterState("2.0.0"), true);
});
