/** The admin panel (`/admin`): wallet login of the admin NFT holder, then VMs, jobs, plans, wallet and admin commands. */
import { type Context, Hono } from "hono";
import { formatUnits, parseUnits, type Hex } from "viem";
import { loadAddressbook } from "../../../core/config/addressbook.ts";
import { loadBlockhostConfig } from "../../../core/config/index.ts";
import { oneLine } from "../../../core/errors.ts";
import { logEvent } from "../../../core/log.ts";
import { object, str } from "../../../core/schema.ts";
import { troubledJobs } from "../../../core/state/jobs.ts";
import { destroyVm, powerVm } from "../../../provision/lifecycle.ts";
import { listVms } from "../../../core/state/vms.ts";
import { requireCsrf, requireSession, type Session, SessionStore } from "../../session.ts";
import type { OneTimeCodes } from "../challenges.ts";
import type { ServeDeps } from "../deps.ts";
import { jsonBody } from "../json-body.ts";
import { adminMessage, isAdmin, loginSigner } from "./auth.ts";
import type { AdminFrame } from "./layout.tsx";
import { LoginPage } from "./login.tsx";
import { CommandsPage, JobsPage, PlansPage, VmsPage, type WalletRow, WalletPage } from "./pages.tsx";

type Env = { Variables: { session: Session; secureHeadersNonce?: string } };

const loginBody = object({
  code: str(/^[A-Z0-9]{8}$/, "the 8-character login code", 8),
  signature: str(/^0x[0-9a-fA-F]{130}$/, "a 65-byte hex signature", 132),
});
const VM_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/;
const PLAN_NAME = /^\P{Cc}{1,64}$/u;
const PRICE = /^\d{1,6}(\.\d{1,2})?$/;

const ADMIN_IDLE_MS = 30 * 60_000;

export function adminApp(deps: ServeDeps, codes: OneTimeCodes): Hono<Env> {
  const app = new Hono<Env>();
  const sessions = new SessionStore({ cookieName: "bh_admin", idleMs: ADMIN_IDLE_MS, tls: deps.tls });
  const frame = (c: Context<Env>, notice?: string): AdminFrame => {
    const s = c.get("session");
    return {
      title: deps.site.title,
      accent: deps.site.accent,
      nonce: c.get("secureHeadersNonce"),
      csrf: s.csrf,
      wallet: String(s.data.wallet),
      notice,
    };
  };
  const notice = (c: Context<Env>) => c.req.query("done")?.slice(0, 200);
  const done = (c: Context<Env>, to: string, text: string) => c.redirect(`${to}?done=${encodeURIComponent(text)}`, 303);
  const action = (c: Context<Env>, what: string, fields: Record<string, unknown>) =>
    logEvent("admin.action", { action: what, wallet: String(c.get("session").data.wallet), ...fields });

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

  const planForm = async (c: Context<Env>) => {
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

  app.get("/wallet", async (c) => {
    const coin = await deps.chain.stablecoin();
    const rows: WalletRow[] = [];
    for (const [name, entry] of Object.entries(loadAddressbook())) {
      const b = await deps.chain.balances(entry.address as Hex);
      rows.push({
        name,
        address: entry.address,
        native: formatUnits(b.native, 18),
        stable: b.stable === null || !coin ? null : formatUnits(b.stable, coin.decimals),
      });
    }
    const held = coin ? (await deps.chain.balances(deps.chain.subscriptions)).stable : null;
    return c.html(
      <WalletPage
        {...frame(c, notice(c))}
        rows={rows}
        coin={coin?.symbol ?? null}
        contractBalance={held === null || !coin ? null : formatUnits(held, coin.decimals)}
      />,
    );
  });

  app.post("/wallet/withdraw", async (c) => {
    const to = String((await c.req.parseBody()).to ?? "");
    const entry = loadAddressbook()[to];
    const coin = await deps.chain.stablecoin();
    if (!entry || !coin) return c.text(`no addressbook entry ${JSON.stringify(to.slice(0, 64))} or no stablecoin`, 400);
    action(c, "wallet.withdraw", { to, address: entry.address, token: coin.address });
    try {
      await deps.chain.withdraw(coin.address, entry.address as Hex);
    } catch (e) {
      return c.text(`withdraw failed: ${oneLine(e)}`, 502);
    }
    return done(c, "/admin/wallet", `withdrawn to ${to}`);
  });

  app.get("/commands", (c) => {
    const admin = loadBlockhostConfig().admin;
    const settings: Record<string, string> = {};
    if (admin?.max_command_age !== undefined) settings["max_command_age (s)"] = String(admin.max_command_age);
    if (admin?.destination_mode !== undefined) settings.destination_mode = admin.destination_mode;
    if (admin?.credential_nft_id !== undefined) settings.credential_nft_id = String(admin.credential_nft_id);
    return c.html(<CommandsPage {...frame(c)} settings={settings} />);
  });

  return app;
}
