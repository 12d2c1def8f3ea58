/** What every admin route shares: the page frame, the post-redirect-get notice, the action log line, error replies. */
import type { Context } from "hono";
import { type ErrorCode, oneLine } from "../../../core/errors.ts";
import { logEvent } from "../../../core/log.ts";
import type { WalletEnv } from "../../session/index.ts";
import type { ServeDeps } from "../deps.ts";
import { type AdminFrame, AdminPage } from "./layout.tsx";

export type AdminEnv = WalletEnv;
export type AdminContext = Context<AdminEnv>;

type ErrorStatus = 400 | 403 | 404 | 409 | 500 | 502 | 503;
const STATUS: Partial<Record<ErrorCode, ErrorStatus>> = {
  E_USAGE: 400,
  E_INVALID_INPUT: 400,
  E_SCHEMA: 400,
  E_AGENT_INVALID_PARAMS: 400,
  E_AGENT_OUT_OF_SCOPE: 403,
  E_NOT_FOUND: 404,
  E_CONFLICT: 409,
  E_CHAIN: 502,
  E_AGENT_UNAVAILABLE: 503,
  E_CONFIG_MISSING: 503,
  E_CONFIG_INVALID: 503,
};

export interface AdminKit {
  deps: ServeDeps;
  frame(c: AdminContext, notice?: string): AdminFrame;
  /** The `?done=` line of a redirect after a successful POST. */
  notice(c: AdminContext): string | undefined;
  done(c: AdminContext, to: string, text: string): Response;
  /** One `admin.action` log line per write, before it runs. */
  action(c: AdminContext, what: string, fields: Record<string, unknown>): void;
  /**
   * The admin page of the section with the one-line error as an alert and a way back; the status
   * follows the error's code (500 for anything unexpected) unless given.
   */
  failed(c: AdminContext, doing: string, e: unknown, status?: ErrorStatus): Response | Promise<Response>;
}

export function adminKit(deps: ServeDeps): AdminKit {
  const wallet = (c: AdminContext) => c.get("walletSession").wallet;
  const frame = (c: AdminContext, notice?: string): AdminFrame => ({
    title: deps.site.title,
    accent: deps.site.accent,
    nonce: c.get("secureHeadersNonce"),
    csrf: c.get("walletSession").csrf,
    wallet: wallet(c),
    notice,
  });
  return {
    deps,
    frame,
    notice: (c) => c.req.query("done")?.slice(0, 200),
    done: (c, to, text) => c.redirect(`${to}?done=${encodeURIComponent(text)}`, 303),
    action: (c, what, fields) => logEvent("admin.action", { action: what, wallet: wallet(c), ...fields }),
    failed(c, doing, e, given) {
      const code = (e as { code?: ErrorCode }).code;
      const status = given ?? (code && STATUS[code]) ?? 500;
      logEvent("admin.action_failed", { doing, wallet: wallet(c), code: code ?? "E_INTERNAL", error: oneLine(e) });
      const back = /^\/admin\/[a-z]+/.exec(c.req.path)?.[0] ?? "/admin";
      return c.html(
        <AdminPage {...frame(c)} heading="Not done">
          <p class="error" role="alert" id="error">
            {`${doing} failed: ${oneLine(e)}`}
          </p>
          <p>
            <a href={back}>Back</a>
          </p>
        </AdminPage>,
        status,
      );
    },
  };
}
