/**
 * `deno task setup` (run first by `demo`, `test`, `build` and the others):
 * installs the npm packages the lockfile pins and makes sure Deno's cache also
 * holds each package's registry metadata, so that no later command reaches
 * the network.
 *
 * Why the metadata check: when a package's files reach the cache before its
 * metadata (a `deno run` or `deno check` installing from the lockfile), Deno
 * keeps no metadata for it and asks the registry again whenever it resolves
 * the package at run time (the compiler's lazy import of `assemblyscript`).
 * Reloading just those packages once stores their metadata. Only the packages
 * deno.json names are resolved at run time; Deno stores no metadata for the
 * packages they depend on, whatever is reloaded.
 *
 * What that costs on a first run: `deno task` installs the lockfile's packages
 * (files only) before any task runs, so a first `deno task demo` downloads the
 * 47 packages' tarballs (about 8.3 MB) and then, here, the direct packages'
 * metadata and tarballs again (about 6.9 MB, 4.6 MB of it the tarballs).
 * Reloading is the only way found to make Deno store the metadata.
 *
 * Uses no npm package itself: it runs before they are installed.
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url).pathname;

async function deno(args: string[], quiet = false): Promise<boolean> {
  const { success } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: quiet ? "null" : "inherit",
    stderr: quiet ? "null" : "inherit",
  }).output();
  return success;
}

/** Where Deno keeps npm packages and their metadata (`deno info --json`). */
async function npmCache(): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    cwd: ROOT,
    stderr: "null",
  }).output();
  return JSON.parse(new TextDecoder().decode(output.stdout)).npmCache;
}

/** The npm packages deno.json names (the lockfile's `npm:name@version` specifiers). */
function directPackages(): string[] {
  const lock = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.lock`));
  const names = Object.keys(lock.specifiers ?? {})
    .filter((specifier) => specifier.startsWith("npm:"))
    .map((specifier) => specifier.slice(4, specifier.indexOf("@", 5)));
  return [...new Set(names)].sort();
}

function hasMetadata(cache: string, name: string): boolean {
  try {
    return Deno.statSync(`${cache}/registry.npmjs.org/${name}/registry.json`)
      .isFile;
  } catch {
    return false;
  }
}

if (import.meta.main) {
  const cache = await npmCache();
  const missing = directPackages().filter((name) => !hasMetadata(cache, name));
  const args = ["install", "--frozen"];
  if (missing.length > 0) {
    console.error(
      `setup: fetching registry metadata for ${missing.length} npm packages once`,
    );
    args.push(`--reload=${missing.map((name) => `npm:${name}`).join(",")}`);
  }
  if (!await deno(args, missing.length === 0)) {
    // Quiet only when nothing was missing: say what failed by running it again aloud.
    if (missing.length === 0) await deno(args);
    console.error(
      "setup: 'deno install --frozen' failed: check the network and that deno.lock matches deno.json",
    );
    Deno.exit(1);
  }
}
