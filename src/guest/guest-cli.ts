/** `blockhost guest …` as a chunk of its own: a VM's first boot loads only the seed code (see src/entry.ts). */
import { runCli, soloRoot } from "../core/cli.ts";
import { VERSION } from "../version.ts";
import guest from "./guest-command.ts";

export const run = (argv: string[]): Promise<number> => runCli(soloRoot("guest", guest, VERSION), argv);
