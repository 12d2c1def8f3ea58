/** The admin panel (`/admin`): wallet login of the admin NFT holder, then VMs, jobs, plans, wallet and admin commands. */
import { Hono } from "hono";
import { parseUnits, type Hex } from "viem";
import { oneLine } from "../../../core/errors.ts";
import { logEvent } from "../../../core/log.ts";
import { object, str } from "../../../core/schema.ts";
import { troubledJobs } from "../../../core/state/jobs.ts";
import { destroyVm, powerVm } from "../../../provision/lifecycle.ts";
import { listVms } from "../../../core/state/vms.ts";
import { requireCsrf, requireSession, SessionStore } from "../../session.ts";
import type { OneTimeCodes } from "../challenges.ts";
import type { ServeDeps } from "../deps.ts";
import { jsonBody } from "../json-body.ts";
import { clientAddress } from "../rate-limit.ts";
import { adminMessage, isAdmin, loginSigner } from "./auth.ts";
import { commandRoutes } from "./commands.tsx";
import { touchKnockActive } from "./knock-active.ts";
import { type AdminContext, type AdminEnv, adminKit } from "./kit.ts";
import { LoginPage } from "./login.tsx";
import { JobsPage, PlansPage, VmsPage } from "./pages.tsx";
import { walletRoutes } from "./wallet.tsx";

const loginBody = object({
  code: str(/^[A-Z0-9]{8}$/, "the 8-character login code", 8),
  signature: str(/^0x[0-9a-fA-F]{130}$/, "a 65-byte hex signature", 132),
});
const VM_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/;
const PLAN_NAME = /^\P{Cc}{1,64}$/u;
const PRICE = /^\d{1,6}(\.\d{1,2})?$/;

const ADMIN_IDLE_MS = 30 * 60_000;

export function adminApp(deps: ServeDeps, codes: OneTimeCodes): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();
  const sessions = new SessionStore({ cookieName: "bh_admin", idleMs: ADMIN_IDLE_MS, tls: deps.tls });
  const kit = adminKit(deps);
  const { frame, notice, done, action } = kit;

  app.get("/login", (c) => {
    const { code } = codes.issue("admin", "admin");
    const data = { code, message: adminMessage(deps, code), chainId: deps.chainId, rpcUrl: deps.rpcUrl };
    return c.html(
      <LoginPage title={deps.site.title} accent={deps.site.accent} nonce={c.get("secureHeadersNonce")} data={data} />,
    );
  });

  app.post("/login", async (c) => {
    const body = await jsonBody(c, loginBody);
    if (!body.ok) return body.response;
    if (!codes.take(body.value.code, "admin", "admin"))
      return c.json({ error: "the code is unknown, used or expired; reload the page" }, 403);
    try {
      const signer = await loginSigner(deps, body.value.code, body.value.signature as Hex);
      if (!(await isAdmin(deps, signer))) {
        logEvent("admin.login_denied", { wallet: signer });
        return c.json({ error: `${signer} does not hold the admin NFT #${deps.adminTokenId}` }, 403);
      }
      sessions.create(c, { wallet: signer });
      logEvent("admin.login", { wallet: signer });
      return c.json({ ok: true, wallet: signer });
    } catch (e) {
      return c.json({ error: oneLine(e) }, 503);
    }
  });

  app.use(
    "*",
    requireSession(sessions, (c) => c.redirect("/admin/login", 303)),
    requireCsrf(),
  );
  // The admin right follows the NFT: a session whose wallet no longer holds it ends at once.
  app.use("*", async (c, next) => {
    if (!(await isAdmin(deps, String(c.get("session").data.wallet)))) {
      sessions.destroy(c);
      return c.text("this wallet no longer holds the admin NFT; log in again", 403);
    }
    touchKnockActive(clientAddress(c));
    await next();
  });

  app.post("/logout", (c) => {
    sessions.destroy(c);
    return c.redirect("/admin/login", 303);
  });

  app.get("/", (c) => c.html(<VmsPage {...frame(c, notice(c))} vms={listVms(deps.db)} />));

  app.post("/vms/:name/:op{start|stop|destroy}", async (c) => {
    const name = c.req.param("name");
    const op = c.req.param("op") as "start" | "stop" | "destroy";
    if (!VM_NAME.test(name)) return c.text("bad VM name", 400);
    action(c, `vm.${op}`, { vm: name });
    try {
      const p = deps.provisioner();
      if (op === "destroy") await destroyVm(p, name);
      else await powerVm(p, name, op);
    } catch (e) {
      return c.text(`${op} ${name} failed: ${oneLine(e)}`, 409);
    }
    return done(c, "/admin", `${op} ${name}: done`);
  });

  app.get("/jobs", (c) => c.html(<JobsPage {...frame(c, notice(c))} jobs={troubledJobs(deps.db, 100)} />));

  app.post("/jobs/retry", async (c) => {
    const key = String((await c.req.parseBody()).key ?? "");
    if (!/^[a-z]+:[0-9a-zA-Z:._-]{1,120}$/.test(key)) return c.text("bad job key", 400);
    action(c, "job.retry", { job: key });
    return deps.queue.retry(key)
      ? done(c, "/admin/jobs", `${key} queued again`)
      : c.text(`no failed or dead job ${key}`, 404);
  });

  app.get("/plans", async (c) =>
    c.html(
      <PlansPage {...frame(c, notice(c))} plans={await deps.chain.plans(true)} canWrite={deps.chain.signer !== null} />,
    ),
  );

  const planForm = async (c: AdminContext) => {
    const form = await c.req.parseBody();
    const name = String(form.name ?? "").trim();
    const price = String(form.price ?? "").trim();
    if (!PLAN_NAME.test(name)) return { error: "plan name: 1 to 64 characters, no control characters" };
    if (!PRICE.test(price) || Number(price) <= 0) return { error: "price: a positive USD amount like 1.50" };
    return { name, cents: parseUnits(price, 2), active: form.active === "1" };
  };

  app.post("/plans", async (c) => {
    const f = await planForm(c);
    if ("error" in f) return c.text(f.error!, 400);
    action(c, "plan.create", { name: f.name, cents_per_day: String(f.cents) });
    try {
      await deps.chain.createPlan(f.name, f.cents);
    } catch (e) {
      return c.text(`create plan failed: ${oneLine(e)}`, 502);
    }
    return done(c, "/admin/plans", `plan ${f.name} created`);
  });

  app.post("/plans/:id{[0-9]{1,6}}", async (c) => {
    const id = Number(c.req.param("id"));
    const f = await planForm(c);
    if ("error" in f) return c.text(f.error!, 400);
    action(c, "plan.update", { plan: id, name: f.name, cents_per_day: String(f.cents), active: f.active });
    try {
      await deps.chain.updatePlan(id, f.name, f.cents, f.active);
    } catch (e) {
      return c.text(`update plan ${id} failed: ${oneLine(e)}`, 502);
    }
    return done(c, "/admin/plans", `plan ${id} saved`);
  });

  walletRoutes(app, kit);
  commandRoutes(app, kit);

  return app;
}
