/** Parse and validate an HTML form POST with a core/schema.ts schema; a 400 naming the problem otherwise. */
import type { Context } from "hono";
import { isSchemaError, type Schema } from "../../core/schema.ts";

/** Text fields only (a file upload is refused); the CSRF field is checked by requireCsrf and dropped here. */
export async function formBody<T>(
  c: Context,
  schema: Schema<T>,
): Promise<{ ok: true; value: T } | { ok: false; response: Response }> {
  const raw: Record<string, string> = {};
  for (const [key, value] of Object.entries(await c.req.parseBody())) {
    if (typeof value !== "string") return { ok: false, response: c.text(`${key}: expected text`, 400) };
    if (key !== "csrf") raw[key] = value.trim();
  }
  try {
    return { ok: true, value: schema.parse(raw, "") };
  } catch (e) {
    if (isSchemaError(e)) return { ok: false, response: c.text(e.message, 400) };
    throw e;
  }
}
