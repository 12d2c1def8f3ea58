/** The type every citty command definition shares, whatever its arguments. */
import type { CommandDef } from "citty";

// biome-ignore lint/suspicious/noExplicitAny: a command of any argument shape (citty's own default)
export type AnyCommand = CommandDef<any>;
