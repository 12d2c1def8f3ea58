/** The public web front served by `blockhost serve`: signup page, admin panel and status API, one Hono app. */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { BlockhostError, oneLine } from "../../core/errors.ts";
import { logEvent } from "../../core/log.ts";
import { assetRoutes } from "../assets.ts";
import { limits, securityHeaders } from "../security.ts";
import { adminApp } from "./admin/app.tsx";
import { credentialsApi } from "./api/credentials.ts";
import { statusApi } from "./api/status.ts";
import type { ServeDeps } from "./deps.ts";
import { explorerFor } from "./explorer.ts";
import { SignupPage } from "./pages/signup.tsx";
import { RateLimiter, rateLimit } from "./rate-limit.ts";

export interface PublicAppOptions {
  /** Requests per minute per client address on the API (default 300); bench raises it. */
  apiPerMinute?: number;
  /** Wallet-signature attempts per minute per client address (default 20). */
  authPerMinute?: number;
}

type Env = { Variables: { secureHeadersNonce?: string } };

export function publicApp(deps: ServeDeps, opts: PublicAppOptions = {}): Hono<Env> {
  const app = new Hono<Env>();
  const api = new RateLimiter(opts.apiPerMinute ?? 300, 60_000);
  const auth = new RateLimiter(opts.authPerMinute ?? 20, 60_000);

  app.use("*", securityHeaders({ tls: deps.tls }), ...limits());
  app.route("/assets", assetRoutes());
  app.use("/api/*", rateLimit(api, "api"));
  app.use("/api/v1/credentials/:token/*", rateLimit(auth, "auth"));
  app.route("/api/v1", statusApi(deps));
  app.route("/api/v1/credentials", credentialsApi(deps));
  // The login page itself issues nothing; the nonce and the signature check are what is limited.
  app.on("POST", ["/admin/login", "/admin/login/*"], rateLimit(auth, "auth"));
  app.route("/admin", adminApp(deps));

  app.get("/", async (c) => {
    const [plans, stablecoin] = await Promise.all([deps.chain.plans(), deps.chain.stablecoin()]);
    const data = {
      chainId: deps.chainId,
      rpcUrl: deps.publicRpcUrl,
      subscriptions: deps.chain.subscriptions,
      nft: deps.chain.nft,
      stablecoin,
      serverPublicKey: deps.serverPublicKey,
      publicSecret: deps.publicSecret,
      explorer: explorerFor(deps.chainId),
      plans: plans.filter((p) => p.active),
    };
    return c.html(
      <SignupPage title={deps.site.title} accent={deps.site.accent} nonce={c.get("secureHeadersNonce")} data={data} />,
    );
  });
  app.onError((e, c) => {
    if (e instanceof HTTPException) return e.getResponse();
    // Chain errors are one line a user can act on; anything else stays in the log.
    const shown = e instanceof BlockhostError ? oneLine(e) : "internal error";
    logEvent("serve.error", { path: c.req.path, error: oneLine(e) });
    return c.req.path.startsWith("/api/") ? c.json({ error: shown }, 500) : c.text(shown, 500);
  });
  app.notFound((c) =>
    c.req.path.startsWith("/api/") ? c.json({ error: "not found" }, 404) : c.text("not found", 404),
  );
  return app;
}
