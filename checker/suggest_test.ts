import assert from "node:assert/strict";
import { closestName } from "./suggest.ts";

Deno.test("did you mean: the nearest field name, lowerCamelCase compared in snake_case", () => {
  const fields = ["vm_id", "runtime", "code", "configuration"];
  assert.equal(closestName("vm_idd", fields), "vm_id");
  assert.equal(closestName("vmIdd", fields), "vm_id");
  assert.equal(closestName("runtme", fields), "runtime");
  // Two edits are always close enough; more only for long words (a quarter of the length).
  assert.equal(closestName("confguratoin", fields), "configuration");
  assert.equal(closestName("xyz_abc", fields), undefined);
  assert.equal(closestName("anything", []), undefined);
});

Deno.test("did you mean: on a tie the first candidate wins", () => {
  assert.equal(closestName("cat", ["bat", "hat"]), "bat");
  assert.equal(closestName("cat", ["hat", "bat"]), "hat");
});
