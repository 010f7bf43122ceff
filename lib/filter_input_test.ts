/**
 * `--filter DIR`: a project made by `new`'s own code, its decision edited,
 * is built by the first command that runs it (and only then), routed by
 * `route`, run by `up local` (and `up envoy` when $WASMERANG_ENVOY names an
 * Envoy) and judged by `probe` under the project's root id; the usage
 * mistakes are one line each. One real build for the file.
 */
import { assert, assertEquals, assertMatch } from "../host/testing/assert.ts";
import { join } from "node:path";
import { runCli } from "../testing/cli.ts";
import { tempDir } from "../testing/temp.ts";
import { SIDES_RULE, writeFilterProject } from "../testing/filter_project.ts";
import { findProject } from "./filter_project.ts";
import { moduleFromFlags, staleReason } from "./filter_input.ts";
import { moduleSha256 } from "./judge.ts";
import { embeddedFilter } from "./filter_module.ts";

const ROOT = "side-router";

/** Writes the project `wasmerang new` writes for this test's root id, its rule replaced. */
function writeProject(dir: string, decide: string): Promise<void> {
  return writeFilterProject(dir, ROOT, decide);
}

/** The CLI with this test's state folder; a run that hangs is stopped after 90 s. */
function wasmerang(args: string[], stateDir: string) {
  return runCli(args, { stateDir, timeoutMs: 90_000 });
}

const CLUSTERS = [
  "--cluster",
  "rest=127.0.0.1:0",
  "--cluster",
  "even-side=127.0.0.1:0",
  "--cluster",
  "odd-side=127.0.0.1:0",
];

interface Result {
  source: string;
  chosen: string | null;
  got: string | null;
  ok: boolean;
}

/** `up MODE --filter DIR --detach`, then probe: judged by the project's module under its root id. */
async function upAndProbe(
  mode: "local" | "envoy",
  dir: string,
  output: string,
  stateDir: string,
  extra: string[] = [],
): Promise<void> {
  try {
    const up = await wasmerang([
      "up",
      mode,
      "--detach",
      "--filter",
      dir,
      "--listen",
      "127.0.0.1:0",
      ...CLUSTERS,
      ...extra,
    ], stateDir);
    assertEquals(up.code, 0, up.stderr);
    assert(!/Building/.test(up.stderr), "up built a module that was fresh");
    assertMatch(
      up.stdout,
      new RegExp(
        `^filter +${output} \\(sha256 [0-9a-f]{12}…\\), root id ${ROOT},`,
        "m",
      ),
    );
    const state = JSON.parse(
      await Deno.readTextFile(`${stateDir}/${mode}.json`),
    );
    assertEquals([state.wasm, state.rootId], [output, ROOT]);

    const probe = await wasmerang(
      ["probe", mode, "--json", "--from", "127.0.0.10,127.0.0.11"],
      stateDir,
    );
    assertEquals(probe.code, 0, probe.stdout + probe.stderr);
    const report = JSON.parse(probe.stdout);
    assertEquals([report.filter.module, report.filter.rootId], [output, ROOT]);
    assertEquals(
      report.results.map((r: Result) => [r.source, r.chosen, r.got, r.ok]),
      [
        ["127.0.0.10", "even-side", "even-side", true],
        ["127.0.0.11", "odd-side", "odd-side", true],
      ],
    );
    // Judged by the project named again: the same module, no build.
    const again = await wasmerang(
      ["probe", mode, "--filter", dir, "--from", "127.0.0.12"],
      stateDir,
    );
    assertEquals(again.code, 0, again.stderr);
    assert(!/Building|note:/.test(again.stderr), again.stderr);
    // Judged by another module than the running one: said on stderr, and the misroute caught.
    const other = join(stateDir, "embedded.wasm");
    await Deno.writeFile(other, embeddedFilter());
    const elsewhere = await wasmerang(
      ["probe", mode, "--wasm", other, "--from", "127.0.0.12"],
      stateDir,
    );
    assertEquals(elsewhere.code, 1, elsewhere.stderr);
    assertMatch(
      elsewhere.stderr,
      /^note: judging by .*embedded\.wasm \(sha256 [0-9a-f]{12}…\), not the module the running example started with/m,
    );
  } finally {
    const down = await wasmerang(["down", mode], stateDir);
    assertEquals(down.code, 0, down.stderr);
  }
}

Deno.test("--filter DIR: built when needed, routed, run by up and judged by probe under the project's root id", async (t) => {
  await using temp = await tempDir();
  const dir = join(temp.path, "sides");
  const output = join(dir, "build/filter.wasm");
  const stateDir = join(temp.path, "state");
  await Deno.mkdir(stateDir);
  await writeProject(dir, SIDES_RULE);

  await t.step(
    "route --filter builds the missing module and routes by it",
    async () => {
      const run = await wasmerang(
        ["route", "--filter", dir, "--json", "10.0.0.2", "10.0.0.3", "[::1]:5"],
        stateDir,
      );
      assertEquals(run.code, 0, run.stderr);
      assertMatch(
        run.stderr,
        /Building the filter project .*build\/filter\.wasm is missing/,
      );
      const decisions = JSON.parse(run.stdout);
      assertEquals(
        decisions.map((d: { cluster: string | null }) => d.cluster),
        ["even-side", "odd-side", null],
      );
    },
  );

  const sha = moduleSha256(await Deno.readFile(output));
  const built = (await Deno.stat(output)).mtime?.getTime();

  await t.step(
    "a second run builds nothing: the module is untouched",
    async () => {
      const run = await wasmerang(
        ["route", "--filter", join(dir, "assembly"), "10.0.0.4"],
        stateDir,
      );
      assertEquals(run.code, 0, run.stderr);
      assertEquals(run.stdout.trim(), "10.0.0.4 → even-side");
      assertEquals(run.stderr, "");
      assertEquals((await Deno.stat(output)).mtime?.getTime(), built);
      assertEquals(moduleSha256(await Deno.readFile(output)), sha);
    },
  );

  await t.step(
    "--wasm of a project's output takes the project's root id; elsewhere the error names --root-id",
    async () => {
      const own = await wasmerang(
        ["route", "--wasm", output, "10.0.0.5"],
        stateDir,
      );
      assertEquals(own.code, 0, own.stderr);
      assertEquals(own.stdout.trim(), "10.0.0.5 → odd-side");
      const copy = join(temp.path, "copy.wasm");
      await Deno.copyFile(output, copy);
      const lost = await wasmerang(
        ["route", "--wasm", copy, "10.0.0.5"],
        stateDir,
      );
      assertEquals(lost.code, 1);
      const lines = lost.stderr.trim().split("\n");
      assertEquals(lines.length, 1, lost.stderr);
      assertMatch(
        lines[0],
        /^wasmerang: the filter registers no root context named "wasmerang" .*: give the name its registerRootContext uses with --root-id NAME/,
      );
      const named = await wasmerang(
        ["route", "--wasm", copy, "--root-id", ROOT, "10.0.0.5"],
        stateDir,
      );
      assertEquals(named.stdout.trim(), "10.0.0.5 → odd-side", named.stderr);
    },
  );

  await t.step(
    "up local --filter --detach, probe local judged by the project's module",
    async () => {
      await upAndProbe("local", dir, output, stateDir);
    },
  );

  await t.step({
    name:
      "up envoy --filter --detach, probe envoy judged by the project's module",
    ignore: Deno.env.get("WASMERANG_ENVOY") === undefined,
    fn: async () => {
      await upAndProbe("envoy", dir, output, stateDir, [
        "--admin",
        "127.0.0.1:0",
      ]);
    },
  });

  await t.step("usage mistakes: one line, exit 2, nothing built", async () => {
    const plain = join(temp.path, "plain");
    await Deno.mkdir(plain);
    const file = join(temp.path, "file.txt");
    await Deno.writeTextFile(file, "not a folder\n");
    const both = ["--filter", dir, "--wasm", output];
    const cases: [string[], RegExp][] = [
      [
        ["route", ...both, "10.0.0.2"],
        /--filter and --wasm both name the module: give one/,
      ],
      [["up", "local", ...both, "--dry-run"], /--filter and --wasm both name/],
      [["up", "envoy", ...both, "--dry-run"], /--filter and --wasm both name/],
      [["probe", "local", ...both], /--filter and --wasm both name/],
      [["probe", "envoy", ...both], /--filter and --wasm both name/],
      [
        ["route", "--filter", plain, "10.0.0.2"],
        /--filter .*plain: not a filter project \(no wasmerang\.json in it or above it;/,
      ],
      [["up", "local", "--filter", plain, "--dry-run"], /not a filter project/],
      [
        ["route", "--filter", join(temp.path, "gone"), "10.0.0.2"],
        /--filter .*gone: no such folder/,
      ],
      [
        ["route", "--filter", file, "10.0.0.2"],
        /--filter .*file\.txt: not a folder .*--wasm/,
      ],
      [["route", "--filter", "", "10.0.0.2"], /--filter "": the path is empty/],
    ];
    for (const [args, message] of cases) {
      const run = await wasmerang(args, stateDir);
      assertEquals(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      const lines = run.stderr.trim().split("\n");
      assertEquals(lines.length, 1, run.stderr);
      assertMatch(lines[0], message);
    }
    assertEquals((await Deno.stat(output)).mtime?.getTime(), built);
  });

  await t.step(
    "the rule: missing, or older than wasmerang.json or a .ts file under the entry's folder",
    async () => {
      const project = (await findProject(dir))!;
      assertEquals(await staleReason(project), undefined);
      const later = new Date((built ?? 0) + 60_000);
      const earlier = new Date((built ?? 0) - 60_000);
      for (
        const source of [
          "assembly/lib/address.ts",
          "assembly/decide.ts",
          "wasmerang.json",
        ]
      ) {
        await Deno.utime(join(dir, source), later, later);
        assertMatch(
          (await staleReason(project))!,
          new RegExp(
            `${
              source.replaceAll(".", "\\.")
            } changed since .*filter\\.wasm was built`,
          ),
        );
        await Deno.utime(join(dir, source), earlier, earlier);
      }
      // Not sources: the project's own tests, its README, the build folder.
      for (const other of ["decisions_test.ts", "README.md"]) {
        await Deno.utime(join(dir, other), later, later);
      }
      assertEquals(await staleReason(project), undefined);
      assertMatch(
        (await staleReason({
          ...project,
          output: join(dir, "build/none.wasm"),
        }))!,
        /none\.wasm is missing/,
      );
      // moduleFromFlags: the project's root id unless --root-id says, nothing built.
      assertEquals(
        await moduleFromFlags({ filter: dir }),
        { wasm: output, rootId: ROOT, project, built: false },
      );
      assertEquals(
        (await moduleFromFlags({ filter: dir, rootId: "x" })).rootId,
        "x",
      );
      assertEquals(await moduleFromFlags({}), {});
      assertEquals((await moduleFromFlags({ wasm: output })).rootId, ROOT);
      assertEquals(moduleSha256(await Deno.readFile(output)), sha);
    },
  );

  await t.step(
    "a dry run of a stale project compiles in memory and writes nothing; a compile error is one line",
    async () => {
      const broken = join(temp.path, "broken");
      await writeProject(broken, "export function decide(: nonsense\n");
      const run = await wasmerang(
        ["up", "local", "--filter", broken, "--dry-run", ...CLUSTERS],
        stateDir,
      );
      assertEquals(run.code, 1, run.stderr);
      assertMatch(
        run.stderr,
        /Compiling \(in memory, for the dry run\) the filter project .*build\/filter\.wasm is missing/,
      );
      const last = run.stderr.trim().split("\n").at(-1)!;
      assertMatch(
        last,
        /^wasmerang: the filter project .*broken did not compile: \d+ error\(s\) in .*assembly\/index\.ts and what it imports, shown above$/,
      );
      assertEquals(run.stdout, "");
      await Deno.stat(join(broken, "build")).then(
        () => assert(false, "the dry run wrote build/"),
        () => {},
      );
    },
  );
});
