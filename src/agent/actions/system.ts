/** Agent actions: health check. */
import { object } from "../../core/schema.ts";
import { defineAction } from "./types.ts";

/** Health check and benchmark target: no privilege, no I/O. */
export const ping = defineAction({
  name: "ping",
  params: object({}),
  timeoutMs: 1_000,
  handler: async () => ({ output: "pong" }),
});
