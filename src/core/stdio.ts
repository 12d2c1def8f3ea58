/**
 * Writing to stdout and stderr without `process.stdout`/`process.stderr`: the first touch of those builds
 * Node's stream machinery, about as costly as starting the runtime itself, which a one-shot command such as
 * `blockhost --version` or the PAM helper should not pay for.
 */

/** Write all of `data` to stdout. */
export async function writeOut(data: string | Uint8Array): Promise<void> {
  await Bun.write(Bun.stdout, data);
}

/** Write all of `data` to stderr. */
export async function writeErr(data: string | Uint8Array): Promise<void> {
  await Bun.write(Bun.stderr, data);
}
