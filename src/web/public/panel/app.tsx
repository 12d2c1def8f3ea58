/**
 * "My servers" (`/my`): the holder of a server's access NFT signs in once (EIP-4361) and powers,
 * reinstalls and opens the console of that server. Every action re-reads `ownerOf` when it is asked
 * for and the engine re-reads it when it runs; the engine runs every action as a job.
 */
import { VM_NAME_RE } from "../../../core/validators.ts";
import type { Context } from "hono";
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { Hex } from "viem";
import { type ErrorCode, hasCode, oneLine } from "../../../core/errors.ts";
import { logEvent } from "../../../core/log.ts";
import { literal, object } from "../../../core/schema.ts";
import { jobByKey } from "../../../core/state/jobs.ts";
import { getVm, type VmRecord } from "../../../core/state/vms.ts";
import { POWER_OPS, requestVmAction, type VmAction } from "../../../engine/vm-requests.ts";
import { chooseOs } from "../../../provision/os.ts";
import { OS_IDS } from "../../../core/template/os.ts";
import { clientAddress, signedMessageBody, type WalletEnv, type WalletLogin } from "../../session/index.ts";
import type { ServeDeps } from "../deps.ts";
import { JOB_KEY, jobEvents } from "../job-events.ts";
import { jsonBody } from "../json-body.ts";
import { panelLogin, panelSessions, reinstallConfirmation } from "./auth.ts";
import { consoleRoutes } from "./console-socket.ts";
import { panelPay } from "./extend.tsx";
import { MyServersPage } from "./page.tsx";
import { heldServer, heldServers, planNames, type ServerView, serverView } from "./servers.ts";
import { panelUsageRoutes } from "./usage.tsx";

const powerBody = object({ op: literal(...POWER_OPS) });
const osBody = object({ os: literal(...OS_IDS) });
const reinstallBody = object({ os: literal(...OS_IDS), confirmation: signedMessageBody });

/** How often a live list re-reads which servers the wallet holds (a transfer drops a server from it). */
const HELD_EVERY_MS = 30_000;

type Status = 400 | 404 | 409 | 429 | 503;
const STATUS: Partial<Record<ErrorCode, Status>> = {
  E_INVALID_INPUT: 400,
  E_SCHEMA: 400,
  E_NOT_FOUND: 404,
  E_AUTH_DENIED: 404,
  E_CONFLICT: 409,
  E_STATE: 409,
  E_VM_SUSPENDED: 409,
  E_RATE_LIMITED: 429,
  E_CHAIN: 503,
};

export interface PanelOptions {
  login?: WalletLogin;
  confirm?: WalletLogin;
  /** How often the live list is re-read from the database (ms). */
  refreshMs?: number;
}

export function panelApp(deps: ServeDeps, opts: PanelOptions = {}): Hono<WalletEnv> {
  const app = new Hono<WalletEnv>();
  const sessions = panelSessions();
  const login = opts.login ?? panelLogin(deps);
  const confirm = opts.confirm ?? reinstallConfirmation(deps);
  const refreshMs = opts.refreshMs ?? 1000;

  const failed = (c: Context, doing: string, wallet: string, e: unknown) => {
    const code = (e as { code?: ErrorCode }).code;
    logEvent("panel.action_failed", { doing, wallet, code: code ?? "E_INTERNAL", error: oneLine(e) });
    return c.json({ error: oneLine(e), code: code ?? "E_INTERNAL" }, (code && STATUS[code]) ?? 500);
  };
  const views = async (wallet: Hex): Promise<ServerView[]> => {
    const [held, plans] = await Promise.all([heldServers(deps, wallet), planNames(deps)]);
    return held.map((vm) => serverView(deps.db, deps.chainId, vm, plans, deps.planSizes));
  };

  app.get("/", async (c) => {
    const session = await sessions.get(c);
    const base = { title: deps.site.title, accent: deps.site.accent, nonce: c.get("secureHeadersNonce") };
    if (!session) return c.html(<MyServersPage {...base} signedIn={null} />);
    let servers: ServerView[] = [];
    let problem: string | null = null;
    const pay = panelPay(deps);
    try {
      servers = await views(session.wallet);
    } catch (e) {
      problem = oneLine(e);
    }
    return c.html(
      <MyServersPage
        {...base}
        signedIn={{
          wallet: session.wallet,
          csrf: session.csrf,
          pay: await pay,
          servers,
          problem,
          offered: deps.offeredOs,
        }}
      />,
    );
  });

  app.post("/login/challenge", (c) => login.challengeResponse(c));

  app.post("/login", async (c) => {
    const body = await jsonBody(c, signedMessageBody);
    if (!body.ok) return body.response;
    try {
      const wallet = await login.verify(body.value);
      await sessions.start(c, wallet);
      logEvent("panel.login", { wallet });
      return c.json({ ok: true, wallet });
    } catch (e) {
      if (hasCode(e, "E_AUTH_DENIED")) {
        logEvent("panel.login_denied", { reason: e.details?.reason, client: clientAddress(c) });
        return c.json({ error: e.message }, 403);
      }
      return c.json({ error: oneLine(e) }, 503);
    }
  });

  app.use("*", sessions.require(), sessions.csrf());
  consoleRoutes(app, deps);

  app.post("/logout", async (c) => {
    await sessions.end(c);
    return c.json({ ok: true });
  });

  app.get("/servers", async (c) => {
    try {
      return c.json(await views(c.get("walletSession").wallet));
    } catch (e) {
      return failed(c, "list servers", c.get("walletSession").wallet, e);
    }
  });

  // Live states from the database as they change; the held set is read from the chain again every HELD_EVERY_MS.
  app.get("/events", async (c) => {
    const wallet = c.get("walletSession").wallet;
    let [held, plans] = await Promise.all([heldServers(deps, wallet), planNames(deps)]);
    let heldAt = Date.now();
    return streamSSE(c, async (stream) => {
      let last = "";
      let quiet = 0;
      while (!stream.aborted) {
        if (Date.now() - heldAt >= HELD_EVERY_MS) {
          held = await heldServers(deps, wallet).catch(() => held);
          heldAt = Date.now();
        }
        // The held set is the chain's; each server's row is read again (its state changes under us).
        const list = held
          .map((vm) => getVm(deps.db, vm.vm_name))
          .filter((vm): vm is VmRecord => vm !== null && vm.status !== "destroyed")
          .map((vm) => serverView(deps.db, deps.chainId, vm, plans, deps.planSizes));
        const json = JSON.stringify(list);
        if (json !== last) {
          await stream.writeSSE({ event: "servers", data: json });
          last = json;
          quiet = 0;
        } else if (++quiet * refreshMs >= 15_000) {
          await stream.writeSSE({ event: "ping", data: "" });
          quiet = 0;
        }
        await stream.sleep(refreshMs);
      }
    });
  });

  /** Ask for an action on a server the session's wallet holds right now. */
  const act = async (c: Context<WalletEnv>, action: VmAction, os?: string) => {
    const wallet = c.get("walletSession").wallet;
    const name = c.req.param("name") ?? "";
    try {
      const vm = VM_NAME_RE.test(name) ? await heldServer(deps, wallet, name) : null;
      if (!vm) {
        logEvent("panel.refused", { wallet, vm: name.slice(0, 64), action, reason: "not-holder" });
        return c.json({ error: `this wallet does not hold a server named ${name.slice(0, 64)}` }, 404);
      }
      const key = requestVmAction(deps.db, { vm: name, action, by: `wallet:${wallet}`, ...(os ? { os } : {}) });
      logEvent("panel.action", { wallet, vm: name, action, job: key, ...(os ? { os } : {}) });
      return c.json({ job: key }, 202);
    } catch (e) {
      return failed(c, `${action} ${name}`, wallet, e);
    }
  };

  app.post("/servers/:name/power", async (c) => {
    const body = await jsonBody(c, powerBody);
    return body.ok ? await act(c, body.value.op) : body.response;
  });

  app.post("/servers/:name/reinstall/challenge", async (c) => {
    const body = await jsonBody(c, osBody);
    if (!body.ok) return body.response;
    const name = c.req.param("name");
    try {
      chooseOs(deps.offeredOs, body.value.os);
    } catch (e) {
      return failed(c, `reinstall ${name}`, c.get("walletSession").wallet, e);
    }
    const challenge = confirm.challenge(c, `${name}:${body.value.os}`);
    if (!challenge) return c.json({ error: "too many confirmations are pending; try again in a few minutes" }, 429);
    return c.json(challenge);
  });

  app.post("/servers/:name/reinstall", async (c) => {
    const body = await jsonBody(c, reinstallBody);
    if (!body.ok) return body.response;
    const wallet = c.get("walletSession").wallet;
    const name = c.req.param("name");
    try {
      const signer = await confirm.verify(body.value.confirmation, `${name}:${body.value.os}`);
      if (signer.toLowerCase() !== wallet.toLowerCase())
        return c.json({ error: "the confirmation was signed by another wallet than the one signed in" }, 403);
    } catch (e) {
      if (hasCode(e, "E_AUTH_DENIED")) return c.json({ error: e.message }, 403);
      return failed(c, `reinstall ${name}`, wallet, e);
    }
    return await act(c, "reinstall", body.value.os);
  });

  panelUsageRoutes(app, deps);

  // A job is followed only by the wallet that asked for it.
  app.get("/jobs/:key/events", (c) => {
    const key = c.req.param("key");
    const job = JOB_KEY.test(key) ? jobByKey(deps.db, key) : null;
    if (!job || String(job.payload.by).toLowerCase() !== `wallet:${c.get("walletSession").wallet}`.toLowerCase())
      return c.json({ error: "no such job" }, 404);
    return jobEvents(c, deps.db, job);
  });

  return app;
}
