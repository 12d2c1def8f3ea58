#!/usr/bin/env bun
/** The binary's entry point: prints the version at once and loads only the chunk of the CLI a command needs. */
import { VERSION } from "./version.ts";

/**
 * Top-level commands compiled as chunks of their own (build.ts lists them as entry points), so that a
 * login through the PAM helper or a `crypto` call evaluates none of the engine, web or chain code.
 * Everything else, help and completion included, lives in main.ts.
 */
const CHUNKS: Readonly<Record<string, string>> = {
  pam: "vmauth/pam-cli",
  crypto: "crypto/crypto-cli",
  guest: "guest/guest-cli",
};

const argv = process.argv.slice(2);
if (argv.length === 1 && ["--version", "-v", "version"].includes(argv[0]!)) {
  await Bun.write(Bun.stdout, `blockhost ${VERSION}\n`);
} else {
  const chunk = (argv.length > 1 && CHUNKS[argv[0]!]) || "main";
  // A specifier the bundler cannot follow keeps each chunk out of this one (".js" inside the binary).
  const specifier = `./${chunk}${import.meta.path.endsWith(".ts") ? ".ts" : ".js"}`;
  const { run } = (await import(specifier)) as { run: (argv: string[]) => Promise<number> };
  process.exitCode = await run(argv);
}
