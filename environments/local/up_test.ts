import { assertEquals } from "../../host/testing/assert.ts";
import type { LocalPlane } from "../../dataplane/plane.ts";
import { probeCommand } from "./up.ts";

const at = (host: string, port: number) =>
  ({ listen: { host, port } }) as unknown as LocalPlane;

Deno.test("the hint after a foreground up local carries what the probe must know", () => {
  assertEquals(
    probeCommand(at("127.0.0.1", 10000), "standalone"),
    "wasmerang probe local",
  );
  assertEquals(
    probeCommand(at("127.0.0.1", 10000), '{"clusters":["a","b"]}'),
    `wasmerang probe local --config '{"clusters":["a","b"]}'`,
  );
  assertEquals(
    probeCommand(at("127.0.0.1", 41234), "it's"),
    `wasmerang probe local --to 127.0.0.1:41234 --config 'it'\\''s'`,
  );
});
