/** Parse and validate a JSON request body with a core/schema.ts schema; a 400 naming the problem otherwise. */
import type { Context } from "hono";
import { isSchemaError, type Schema } from "../../core/schema.ts";

export async function jsonBody<T>(
  c: Context,
  schema: Schema<T>,
): Promise<{ ok: true; value: T } | { ok: false; response: Response }> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    return { ok: false, response: c.json({ error: "the request body must be JSON" }, 400) };
  }
  try {
    return { ok: true, value: schema.parse(raw, "") };
  } catch (e) {
    if (isSchemaError(e)) return { ok: false, response: c.json({ error: e.message }, 400) };
    throw e;
  }
}
