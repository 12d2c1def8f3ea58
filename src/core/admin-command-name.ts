// The name of an admin command (the operator's secret); shared by admin-commands.json and the browser-safe payload builder.
import { str } from "./schema.ts";

export const adminCommandName = str(/^[A-Za-z0-9_.-]{1,64}$/, "a command name of letters, digits, _ . - (≤64)", 64);
