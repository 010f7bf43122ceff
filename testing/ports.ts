// Whether a well-known port is taken on this machine, for tests that check a
// command's default address: such a test skips that check (with one line
// naming the port) instead of failing where something else listens there.

/** True when something accepts TCP connections at `host:port`. */
export async function isListening(
  host: string,
  port: number,
): Promise<boolean> {
  try {
    const connection = await Deno.connect({ hostname: host, port });
    connection.close();
    return true;
  } catch {
    return false;
  }
}
