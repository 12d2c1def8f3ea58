/** `blockhost crypto …` as a chunk of its own: a key or ECIES call loads only the crypto code (see src/entry.ts). */
import { runCli, soloRoot } from "../core/cli.ts";
import { VERSION } from "../version.ts";
import crypto from "./crypto-command.ts";

export const run = (argv: string[]): Promise<number> => runCli(soloRoot("crypto", crypto, VERSION), argv);
