/** `blockhost pam …` as a chunk of its own: an SSH login loads only the PAM helper (see src/entry.ts). */
import { runCli, soloRoot } from "../core/cli.ts";
import { VERSION } from "../version.ts";
import pam from "./pam-command.ts";

export const run = (argv: string[]): Promise<number> => runCli(soloRoot("pam", pam, VERSION), argv);
