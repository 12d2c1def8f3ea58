/** The admin panel's sign-in routes and the guard every other admin route sits behind. */
import type { Hono } from "hono";
import { hasCode, oneLine } from "../../../core/errors.ts";
import { logEvent } from "../../../core/log.ts";
import { clientAddress, signedMessageBody, type WalletLogin, WalletSessions } from "../../session/index.ts";
import type { ServeDeps } from "../deps.ts";
import { jsonBody } from "../json-body.ts";
import { isAdmin } from "./auth.ts";
import { touchKnockActive } from "./knock-active.ts";
import type { AdminEnv } from "./kit.tsx";
import { LoginPage } from "./login.tsx";

const ADMIN_IDLE_MS = 30 * 60_000;

/** Mount /login, /login/challenge, /logout, then require a live admin session (and CSRF) on everything after. */
export function signInRoutes(app: Hono<AdminEnv>, deps: ServeDeps, login: WalletLogin): WalletSessions {
  const sessions = new WalletSessions({ cookieName: "bh_admin", idleMs: ADMIN_IDLE_MS });

  app.get("/login", (c) =>
    c.html(<LoginPage title={deps.site.title} accent={deps.site.accent} nonce={c.get("secureHeadersNonce")} />),
  );

  app.post("/login/challenge", (c) => login.challengeResponse(c));

  app.post("/login", async (c) => {
    const body = await jsonBody(c, signedMessageBody);
    if (!body.ok) return body.response;
    try {
      const signer = await login.verify(body.value);
      if (!(await isAdmin(deps, signer))) {
        logEvent("admin.login_denied", { wallet: signer, reason: "not-holder" });
        return c.json({ error: `${signer} does not hold the admin NFT #${deps.adminTokenId}` }, 403);
      }
      await sessions.start(c, signer);
      logEvent("admin.login", { wallet: signer });
      return c.json({ ok: true, wallet: signer });
    } catch (e) {
      if (hasCode(e, "E_AUTH_DENIED")) {
        logEvent("admin.login_denied", { reason: e.details?.reason, client: clientAddress(c) });
        return c.json({ error: e.message }, 403);
      }
      return c.json({ error: oneLine(e) }, 503);
    }
  });

  app.use(
    "*",
    sessions.require((c) => c.redirect("/admin/login", 303)),
    sessions.csrf(),
  );
  // The admin right follows the NFT: a session whose wallet no longer holds it ends at once.
  app.use("*", async (c, next) => {
    const wallet = c.get("walletSession").wallet;
    if (!(await isAdmin(deps, wallet))) {
      sessions.endWallet(wallet);
      await sessions.end(c);
      logEvent("admin.session_ended", { wallet, reason: "not-holder" });
      return c.text("this wallet no longer holds the admin NFT; log in again", 403);
    }
    touchKnockActive(clientAddress(c));
    await next();
  });

  app.post("/logout", async (c) => {
    await sessions.end(c);
    return c.redirect("/admin/login", 303);
  });
  return sessions;
}
