import assert from "node:assert/strict";
import { UserError } from "./errors.ts";
import {
  planScaffold,
  renderWritten,
  writeScaffold,
} from "./scaffold_files.ts";
import { tempDir } from "../testing/temp.ts";

Deno.test("writeScaffold creates, keeps, refuses before writing, and replaces only with force", async () => {
  await using dirTemp = await tempDir();
  const dir = `${dirTemp.path}/out`;
  const files = [
    { path: "a.txt", content: "a\n" },
    { path: "sub/b.bin", content: new Uint8Array([0, 1, 2]) },
  ];
  assert.deepEqual(
    (await writeScaffold(dir, files)).map((file) => file.status),
    ["created", "created"],
  );
  assert.deepEqual(
    await Deno.readFile(`${dir}/sub/b.bin`),
    new Uint8Array([0, 1, 2]),
  );
  assert.deepEqual(
    (await planScaffold(dir, files)).map((file) => file.status),
    ["unchanged", "unchanged"],
  );

  await Deno.writeTextFile(`${dir}/a.txt`, "edited\n");
  await Deno.remove(`${dir}/sub/b.bin`);
  await assert.rejects(
    () => writeScaffold(dir, files, { command: "scaffold test" }),
    (error: unknown) =>
      error instanceof UserError &&
      error.message ===
        `refusing to overwrite ${dir}/a.txt: it differs from what scaffold test writes ` +
          "(pass --force to replace, or choose another --dir)",
  );
  assert.equal(await Deno.readTextFile(`${dir}/a.txt`), "edited\n");
  assert.equal(
    await Deno.stat(`${dir}/sub/b.bin`).then(() => true, () => false),
    false,
    "nothing is written",
  );

  const written = await writeScaffold(dir, files, { force: true });
  assert.deepEqual(written.map((file) => file.status), ["replaced", "created"]);
  assert.equal(await Deno.readTextFile(`${dir}/a.txt`), "a\n");
  const names = [...Deno.readDirSync(dir)].map((entry) => entry.name).sort();
  assert.deepEqual(names, ["a.txt", "sub"], "no temporary file is left behind");
  assert.equal(
    renderWritten("out", written),
    "replaced  out/a.txt (2 B)\ncreated   out/sub/b.bin (3 B)",
  );
});

Deno.test("a --dir that is a file is refused", async () => {
  await using temp = await tempDir();
  const file = `${temp.path}/file`;
  await Deno.writeTextFile(file, "");
  await assert.rejects(
    () => writeScaffold(file, [{ path: "a", content: "" }]),
    /is not a directory/,
  );
});
