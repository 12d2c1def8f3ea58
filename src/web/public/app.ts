/** The public web front served by `blockhost serve`: signup page, admin panel and status API, one Hono app. */
import { Hono } from "hono";
import { credentialsApi } from "./api/credentials.ts";
import { statusApi } from "./api/status.ts";
import { OneTimeCodes } from "./challenges.ts";
import type { ServeDeps } from "./deps.ts";
import { RateLimiter, rateLimit } from "./rate-limit.ts";

export interface PublicAppOptions {
  /** Requests per minute per client address on the API (default 300); bench raises it. */
  apiPerMinute?: number;
  /** Wallet-signature attempts per minute per client address (default 20). */
  authPerMinute?: number;
}

export function publicApp(deps: ServeDeps, opts: PublicAppOptions = {}): Hono {
  const app = new Hono();
  const codes = new OneTimeCodes();
  const api = new RateLimiter(opts.apiPerMinute ?? 300, 60_000);
  const auth = new RateLimiter(opts.authPerMinute ?? 20, 60_000);

  app.use("/api/*", rateLimit(api, "api"));
  app.use("/api/v1/credentials/*", rateLimit(auth, "auth"));
  app.route("/api/v1", statusApi(deps));
  app.route("/api/v1/credentials", credentialsApi(deps, codes));
  app.notFound((c) => (c.req.path.startsWith("/api/") ? c.json({ error: "not found" }, 404) : c.text("not found", 404)));
  return app;
}
