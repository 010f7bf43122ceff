import { assertEquals } from "../host/testing/assert.ts";
import { RotatingLog } from "./rotating_log.ts";

Deno.test("the log rotates at its limit and never holds more than twice it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wasmerang-log-" });
  try {
    const path = `${dir}/local.log`;
    const log = new RotatingLog(path, 100);
    const line = new TextEncoder().encode(`${"x".repeat(29)}\n`);
    for (let i = 0; i < 20; i++) log.writeSync(line);
    log.close();
    const size = (name: string) => Deno.statSync(`${dir}/${name}`).size;
    // 30-byte lines, 3 to a file: 20 lines leave 2 in the current file, 3 in the rotated one.
    assertEquals(size("local.log"), 60);
    assertEquals(size("local.log.1"), 90);
    const names = [...Deno.readDirSync(dir)].map((entry) => entry.name).sort();
    assertEquals(names, ["local.log", "local.log.1"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
