// Temporary directories for tests that remove themselves: `await using dir =
// await tempDir();` removes the directory and everything in it when the
// scope ends, also when an assertion fails.

/** A temporary directory, removed with its contents on disposal. */
export interface TempDir extends AsyncDisposable {
  /** The directory's absolute path. */
  readonly path: string;
}

/** Creates a temporary directory that `await using` removes. */
export async function tempDir(prefix = "wasmerang-test-"): Promise<TempDir> {
  const path = await Deno.makeTempDir({ prefix });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}
