/** The first-boot setup wizard (Hono): OTP login, wallet gate, the step forms, summary, finalization and backup. */
import { DEFAULT_PUBLIC_SECRET, publicSecret } from "../../core/config/schemas.ts";
import { evmAddress } from "../../core/validators.ts";
import type { Database } from "bun:sqlite";
import { Hono, type Context } from "hono";
import { streamSSE } from "hono/streaming";
import { isAddressEqual, recoverMessageAddress, type Hex } from "viem";
import type { AgentClient } from "../../agent/client.ts";
import { BlockhostError, oneLine } from "../../core/errors.ts";
import { logEvent } from "../../core/log.ts";
import { int, isSchemaError, object, record, str } from "../../core/schema.ts";
import { addressOfPrivateKey, generatePrivateKey, privateKeyHex } from "../../crypto/keys.ts";
import { hexToBytesStrict } from "../../crypto/hex.ts";
import { checkStepName } from "../../setup/runner.ts";
import { hypervisorFor } from "../../setup/steps/hypervisor.ts";
import { assetRoutes } from "../assets.ts";
import { limits, securityHeaders } from "../security.ts";
import { requireCsrf, requireSession, SessionStore, type Session, type SessionVariables } from "../session.ts";
import { clientKey } from "../session/client.ts";
import { LoginBackoff } from "./backoff.ts";
import { openBackup, sealDraft } from "./backup.ts";
import { applyForm, missingSteps, WIZARD_STEPS, type Draft, type Form, type StepId } from "./draft.ts";
import { FinalizeJob } from "./finalize-job.ts";
import type { OtpStore } from "./otp.ts";
import { LoginPage, SummaryPage, WalletPage } from "./pages.tsx";
import { StepPage } from "./step-pages.tsx";

export interface WizardDeps {
  otp: OtpStore;
  db: Database;
  agent: AgentClient;
  tls: boolean;
  /** The message the admin signs (blockhost.yaml `public_secret`). */
  publicSecret?: string;
  idleMs?: number;
  /** Milliseconds clock of the login back-off, for tests. */
  now?: () => number;
}

type Env = { Variables: SessionVariables & { secureHeadersNonce?: string } };

const walletBody = object({
  address: evmAddress,
  signature: str(/^0x[0-9a-fA-F]{130}$/, "a 65-byte hex signature", 132),
  /** The message signed: the wizard's default or the admin's own (printable ASCII, as the setup file allows). */
  public_secret: publicSecret,
});
const restoreBody = object({
  backup: str(/^\s*0x[0-9a-fA-F]{58,120000}\s*$/, "the text of a blockhost-config.enc file", 120_010),
});
const rpcBody = object({
  rpc_url: str(/^https?:\/\/[A-Za-z0-9.\-_:[\]%/]{1,2040}$/, "an http(s) URL", 2048),
  chain_id: int(1, 2 ** 53 - 1),
});
const retryBody = object({ step: str(/^[a-z_]{1,32}$/, "a step name", 32) });
/** A step form sent as JSON (the hypervisor check): field names to printable text. */
const formBody = record(str(/^[a-z_0-9]{1,32}$/, "a field name", 32), str(/^[\x20-\x7e]{0,4096}$/, "text", 4096), 40);

function draftOf(s: Session): Draft {
  s.data.draft ??= {};
  return s.data.draft as Draft;
}
const deployerAddress = (d: Draft) =>
  d.deployer_key ? addressOfPrivateKey(hexToBytesStrict(d.deployer_key, "deployer key", 32)) : "";
const FORM_STEPS = WIZARD_STEPS.map((s) => s.id).filter((s) => s !== "summary") as Array<Exclude<StepId, "summary">>;
const nextStep = (step: StepId) => WIZARD_STEPS[WIZARD_STEPS.findIndex((s) => s.id === step) + 1]?.id ?? "summary";

/** One JSON-RPC call to an RPC the admin named (5 s limit). */
async function rpcCall(url: string, method: string, params: unknown[]): Promise<unknown> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    signal: AbortSignal.timeout(5_000),
    redirect: "error",
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json().catch(() => {
    throw new BlockhostError("E_CHAIN", `${method}: the answer is not JSON-RPC`);
  })) as { result?: unknown; error?: { code?: unknown } };
  // The error's code only, never its text: the wizard must not relay what an arbitrary URL answers.
  if (body.error)
    throw new BlockhostError("E_CHAIN", `${method}: the RPC refused it (error ${Number(body.error.code)})`);
  return body.result;
}

async function jsonBody<T>(c: Context, schema: { parse(v: unknown, p?: string): T }): Promise<T> {
  return schema.parse(await c.req.json().catch(() => undefined), "body");
}

export function createWizardApp(deps: WizardDeps) {
  const store = new SessionStore({ cookieName: "bh_wizard", idleMs: deps.idleMs ?? 30 * 60_000, tls: deps.tls });
  const job = new FinalizeJob(deps.db, deps.agent);
  const backoff = new LoginBackoff(deps.now);
  const publicSecret = deps.publicSecret ?? DEFAULT_PUBLIC_SECRET;
  const app = new Hono<Env>();
  const page = (c: Context<Env>) => ({ nonce: c.get("secureHeadersNonce"), csrf: c.get("session")?.csrf });

  app.use("*", securityHeaders({ tls: deps.tls }), ...limits(256 * 1024));
  app.onError((e, c) => {
    if (isSchemaError(e)) return c.json({ error: e.message }, 400);
    logEvent("wizard.error", { error: oneLine(e) });
    return c.json({ error: oneLine(e) }, 500);
  });
  app.route("/assets", assetRoutes());
  app.get("/", (c) => c.redirect(store.get(c) ? "/wizard/wallet" : "/login", 303));
  app.get("/login", (c) => c.html(LoginPage(page(c))));
  app.post("/login", async (c) => {
    const client = clientKey(c);
    const wait = backoff.waitMs(client);
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      c.header("Retry-After", String(seconds));
      logEvent("wizard.login", { result: "backoff", client });
      return c.html(LoginPage({ ...page(c), error: `Too many wrong codes: wait ${seconds} s and try again.` }), 429);
    }
    const form = await c.req.parseBody();
    const result = deps.otp.verify(typeof form.otp === "string" ? form.otp : "");
    logEvent("wizard.login", { result, client });
    if (result !== "ok") {
      const why =
        result === "wrong"
          ? `Wrong code: the next try is checked in ${Math.ceil(backoff.failed(client) / 1000)} s.`
          : "The code has expired: restart the wizard for a new one.";
      return c.html(LoginPage({ ...page(c), error: why }), 401);
    }
    backoff.succeeded(client);
    store.create(c, { draft: {} });
    return c.redirect("/wizard/wallet", 303);
  });

  const toLogin = (c: Context) => (c.req.method === "GET" ? c.redirect("/login", 303) : c.text("login required", 401));
  app.use("/wizard/*", requireSession(store, toLogin), requireCsrf());
  app.use("/api/*", requireSession(store), requireCsrf());

  app.get("/wizard/wallet", (c) =>
    c.html(
      WalletPage({
        ...page(c),
        publicSecret: draftOf(c.get("session")).admin?.public_secret ?? publicSecret,
        wallet: draftOf(c.get("session")).admin?.wallet,
      }),
    ),
  );
  app.post("/api/wallet", async (c) => {
    const body = await jsonBody(c, walletBody);
    const message = body.public_secret;
    const signer = await recoverMessageAddress({ message, signature: body.signature as Hex }).catch(() => undefined);
    if (!signer || !isAddressEqual(signer, body.address as Hex))
      return c.json({ error: "the signature is not this wallet's signature of the public secret" }, 400);
    draftOf(c.get("session")).admin = { wallet: signer, public_secret: message, signature: body.signature as Hex };
    return c.json({ wallet: signer });
  });
  app.post("/api/restore", async (c) => {
    const draft = draftOf(c.get("session"));
    if (!draft.admin) return c.json({ error: "sign with your wallet first" }, 400);
    const restored = openBackup((await jsonBody(c, restoreBody)).backup, draft.admin.signature, draft.admin.wallet);
    c.get("session").data.draft = { ...restored, admin: draft.admin };
    return c.json({ next: "/wizard/summary" });
  });

  // Every step page needs the wallet gate passed first.
  app.use("/wizard/:step", async (c, next) => {
    if (c.req.param("step") !== "wallet" && !draftOf(c.get("session")).admin) return c.redirect("/wizard/wallet", 303);
    await next();
  });
  app.get("/wizard/summary", (c) => {
    const d = draftOf(c.get("session"));
    return c.html(SummaryPage({ ...page(c), draft: d, deployer: deployerAddress(d), missing: missingSteps(d) }));
  });
  for (const step of FORM_STEPS) {
    app.get(`/wizard/${step}`, (c) => {
      const d = draftOf(c.get("session"));
      if (step === "blockchain" && !d.deployer_key) d.deployer_key = privateKeyHex(generatePrivateKey());
      return c.html(StepPage({ ...page(c), step, draft: d, deployer: deployerAddress(d) }));
    });
    app.post(`/wizard/${step}`, async (c) => {
      const d = draftOf(c.get("session"));
      const form = Object.fromEntries(
        Object.entries(await c.req.parseBody()).filter(([, v]) => typeof v === "string"),
      ) as Form;
      try {
        applyForm(d, step, form);
      } catch (e) {
        if (!isSchemaError(e)) throw e;
        const again = { ...page(c), step, draft: d, deployer: deployerAddress(d), error: e.message, submitted: form };
        return c.html(StepPage(again), 400);
      }
      return c.redirect(`/wizard/${nextStep(step)}`, 303);
    });
  }

  app.post("/api/rpc-check", async (c) => {
    const body = await jsonBody(c, rpcBody);
    try {
      const id = Number(await rpcCall(body.rpc_url, "eth_chainId", []));
      if (id !== body.chain_id)
        return c.json({ ok: false, message: `the RPC serves chain ${id}, not ${body.chain_id}` });
      return c.json({ ok: true, message: `the RPC answers for chain ${id}` });
    } catch (e) {
      return c.json({ ok: false, message: `the RPC does not answer (${oneLine(e)})` });
    }
  });
  app.post("/api/balance", async (c) => {
    const body = await jsonBody(c, rpcBody);
    const address = deployerAddress(draftOf(c.get("session")));
    if (!address) return c.json({ error: "no deployer yet" }, 400);
    try {
      if (Number(await rpcCall(body.rpc_url, "eth_chainId", [])) !== body.chain_id)
        return c.json({ error: "wrong chain" }, 400);
      return c.json({
        address,
        wei: BigInt(String(await rpcCall(body.rpc_url, "eth_getBalance", [address, "latest"]))).toString(),
      });
    } catch (e) {
      return c.json({ error: oneLine(e) }, 502);
    }
  });
  // The hypervisor page's "Check this host": the `backend` step's check on the form as it stands, saving nothing.
  app.post("/api/hypervisor-check", async (c) => {
    const scratch = structuredClone(draftOf(c.get("session")));
    applyForm(scratch, "hypervisor", await jsonBody(c, formBody));
    try {
      const result = await hypervisorFor(scratch.backend!).check({ fileName: "hypervisor", agent: deps.agent });
      const lines = Object.entries(result).flatMap(([k, v]) => (Array.isArray(v) ? v.map(String) : [`${k}: ${v}`]));
      return c.json({ ok: true, message: "This host is ready for the hypervisor as entered.", lines });
    } catch (e) {
      return c.json({ ok: false, message: oneLine(e), lines: [] });
    }
  });
  app.post("/api/finalize", (c) => {
    job.start(draftOf(c.get("session")));
    return c.json(job.view(), 202);
  });
  app.get("/api/finalize/status", (c) => c.json(job.view()));
  // Live progress: every change of the run as an SSE `progress` event; the stream ends once the run has settled.
  app.get("/api/finalize/events", (c) =>
    streamSSE(c, async (stream) => {
      let last = "";
      let quiet = 0;
      while (!stream.aborted) {
        const view = job.view();
        const json = JSON.stringify(view);
        if (json !== last) {
          await stream.writeSSE({ event: "progress", data: json });
          last = json;
          quiet = 0;
        } else if (++quiet >= 10) {
          await stream.writeSSE({ event: "ping", data: "" }); // keeps an idle connection from timing out
          quiet = 0;
        }
        if (!view.running) return;
        await job.changed(1_000);
      }
    }),
  );
  app.post("/api/finalize/retry", async (c) => {
    const { step } = await jsonBody(c, retryBody);
    checkStepName(step);
    job.retry(step, draftOf(c.get("session")));
    return c.json(job.view(), 202);
  });
  app.get("/api/finalize/config", (c) => {
    const d = draftOf(c.get("session"));
    if (!d.admin) return c.json({ error: "sign with your wallet first" }, 400);
    c.header("Content-Disposition", 'attachment; filename="blockhost-config.enc"');
    c.header("Cache-Control", "no-store");
    return c.body(sealDraft(d, d.admin.signature), 200, { "Content-Type": "application/octet-stream" });
  });
  return { app, store, job };
}
