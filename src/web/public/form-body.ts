/** Parse and validate an HTML form POST with a core/schema.ts schema. */
import type { Context } from "hono";
import { BlockhostError } from "../../core/errors.ts";
import type { Schema } from "../../core/schema.ts";

/**
 * Text fields only (a file upload is refused); the CSRF field is checked by requireCsrf and dropped here.
 * Throws E_SCHEMA naming the field (unknown fields too) or E_INVALID_INPUT.
 */
export async function formBody<T>(c: Context, schema: Schema<T>): Promise<T> {
  const raw: Record<string, string> = {};
  for (const [key, value] of Object.entries(await c.req.parseBody())) {
    if (typeof value !== "string") throw new BlockhostError("E_INVALID_INPUT", `${key.slice(0, 64)}: expected text`);
    if (key !== "csrf") raw[key] = value.trim();
  }
  return schema.parse(raw, "");
}
