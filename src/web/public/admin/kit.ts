/** What every admin route shares: the page frame, the post-redirect-get notice, the action log line, error replies. */
import type { Context } from "hono";
import { type ErrorCode, oneLine } from "../../../core/errors.ts";
import { logEvent } from "../../../core/log.ts";
import type { Session } from "../../session.ts";
import type { ServeDeps } from "../deps.ts";
import type { AdminFrame } from "./layout.tsx";

export type AdminEnv = { Variables: { session: Session; secureHeadersNonce?: string } };
export type AdminContext = Context<AdminEnv>;

const STATUS: Partial<Record<ErrorCode, 400 | 404 | 409 | 502 | 503>> = {
  E_USAGE: 400,
  E_INVALID_INPUT: 400,
  E_SCHEMA: 400,
  E_AGENT_INVALID_PARAMS: 400,
  E_NOT_FOUND: 404,
  E_CONFLICT: 409,
  E_CHAIN: 502,
  E_AGENT_UNAVAILABLE: 503,
  E_CONFIG_MISSING: 503,
};

export interface AdminKit {
  deps: ServeDeps;
  frame(c: AdminContext, notice?: string): AdminFrame;
  /** The `?done=` line of a redirect after a successful POST. */
  notice(c: AdminContext): string | undefined;
  done(c: AdminContext, to: string, text: string): Response;
  /** One `admin.action` log line per write, before it runs. */
  action(c: AdminContext, what: string, fields: Record<string, unknown>): void;
  /** A one-line error reply whose status follows the error's code (500 for anything unexpected). */
  failed(c: AdminContext, doing: string, e: unknown): Response;
}

export function adminKit(deps: ServeDeps): AdminKit {
  const wallet = (c: AdminContext) => String(c.get("session").data.wallet);
  return {
    deps,
    frame: (c, notice) => ({
      title: deps.site.title,
      accent: deps.site.accent,
      nonce: c.get("secureHeadersNonce"),
      csrf: c.get("session").csrf,
      wallet: wallet(c),
      notice,
    }),
    notice: (c) => c.req.query("done")?.slice(0, 200),
    done: (c, to, text) => c.redirect(`${to}?done=${encodeURIComponent(text)}`, 303),
    action: (c, what, fields) => logEvent("admin.action", { action: what, wallet: wallet(c), ...fields }),
    failed(c, doing, e) {
      const code = (e as { code?: ErrorCode }).code;
      const status = (code && STATUS[code]) ?? 500;
      logEvent("admin.action_failed", { doing, wallet: wallet(c), code: code ?? "E_INTERNAL", error: oneLine(e) });
      return c.text(`${doing} failed: ${oneLine(e)}`, status);
    },
  };
}
