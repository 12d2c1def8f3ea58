/**
 * The browser serial console: `GET /my/servers/:name/console` upgrades to a WebSocket that carries
 * the server's serial port both ways, through the agent's relay (a socket only this service uid can
 * join; serve never touches the pty or hypervisor itself). The upgrade needs the panel session
 * cookie, this page's Origin, the session's CSRF token (`?csrf=`) and, at that moment, `ownerOf` =
 * the session's wallet; the holding is re-read every HELD_EVERY_MS while the console is open.
 */
import { timingSafeEqual } from "node:crypto";
import { connect, type Socket } from "node:net";
import type { Context, Hono } from "hono";
import { upgradeWebSocket } from "hono/bun";
import type { WSContext } from "hono/ws";
import { oneLine } from "../../../core/errors.ts";
import { logEvent } from "../../../core/log.ts";
import { VM_NAME_RE } from "../../../core/validators.ts";
import type { WalletEnv } from "../../session/index.ts";
import type { Hex } from "viem";
import type { ServeDeps } from "../deps.ts";
import { RateLimiter } from "../rate-limit.ts";
import { heldServer } from "./servers.ts";

/** No keystroke for this long closes the console (the agent enforces it). */
export const CONSOLE_IDLE_SECONDS = 900;
/** How often an open console re-reads `ownerOf`: a transfer closes it within this time. */
export const CONSOLE_HELD_EVERY_MS = 30_000;
/** Console opens per wallet and per server per minute. */
const OPENS_PER_MINUTE = 10;

const sameToken = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
/** A close reason fits in 123 bytes: ASCII only, cut short. */
const closeReason = (text: string) => text.replace(/[^\x20-\x7e]/g, "-").slice(0, 120);
const notice = (text: string) => `\r\n[blockhost] ${text}\r\n`;

function connectRelay(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once("connect", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Close codes of a refused console (the page shows the reason): 4000 + the HTTP status it stands for. */
export const CONSOLE_REFUSED = { notHolder: 4404, state: 4409, rateLimited: 4429, unavailable: 4503 } as const;
type Opening = { relay: Socket } | { refused: number; message: string };

/** Rate limits, ownerOf now, the server's state, then the agent's relay session. */
async function openRelay(
  deps: ServeDeps,
  wallet: string,
  name: string,
  byWallet: RateLimiter,
  byServer: RateLimiter,
): Promise<Opening> {
  if (!byWallet.hit(wallet.toLowerCase()) || !byServer.hit(name))
    return { refused: CONSOLE_REFUSED.rateLimited, message: "too many consoles opened; try again in a minute" };
  const vm = VM_NAME_RE.test(name) ? await heldServer(deps, wallet as Hex, name).catch(() => null) : null;
  if (!vm) {
    logEvent("panel.refused", { wallet, vm: name.slice(0, 64), action: "console", reason: "not-holder" });
    return {
      refused: CONSOLE_REFUSED.notHolder,
      message: `this wallet does not hold a server named ${name.slice(0, 64)}`,
    };
  }
  if (vm.status !== "active")
    return { refused: CONSOLE_REFUSED.state, message: `${name} is ${vm.status}; extend the subscription first` };
  try {
    const backend = deps.provisioner().backend;
    if (!backend.openConsole)
      return { refused: CONSOLE_REFUSED.state, message: `the ${backend.name} backend has no console` };
    const { socket } = await backend.openConsole(
      { name: vm.vm_name, vmid: vm.vmid, ipv6: vm.ipv6_address },
      CONSOLE_IDLE_SECONDS,
    );
    return { relay: await connectRelay(socket) };
  } catch (e) {
    const code = (e as { code?: string }).code;
    logEvent("panel.action_failed", {
      doing: `console ${name}`,
      wallet,
      code: code ?? "E_INTERNAL",
      error: oneLine(e),
    });
    return { refused: code === "E_STATE" ? CONSOLE_REFUSED.state : CONSOLE_REFUSED.unavailable, message: oneLine(e) };
  }
}

export function consoleRoutes(app: Hono<WalletEnv>, deps: ServeDeps): void {
  const byWallet = new RateLimiter(OPENS_PER_MINUTE, 60_000);
  const byServer = new RateLimiter(OPENS_PER_MINUTE, 60_000);

  app.get("/servers/:name/console", async (c: Context<WalletEnv>, next) => {
    const { wallet, csrf } = c.get("walletSession");
    const name = c.req.param("name") ?? "";
    // A WebSocket is not bound by the same-origin policy: only this page may open one with the cookie.
    if (c.req.header("origin") !== new URL(c.req.url).origin || !sameToken(c.req.query("csrf") ?? "", csrf))
      return c.json({ error: "the console opens only from this site's My servers page" }, 403);
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") return c.json({ error: "expected a WebSocket" }, 426);
    // Refusals after this point travel as the WebSocket's close code and reason, which the page can show.
    const opening = await openRelay(deps, wallet, name, byWallet, byServer);
    const opened = Date.now();
    let reason = "closed";
    let held: ReturnType<typeof setInterval> | undefined;
    const upgrade = upgradeWebSocket(() => ({
      onOpen(_event, ws: WSContext) {
        if ("refused" in opening) {
          reason = "refused";
          ws.close(opening.refused, closeReason(opening.message));
          return;
        }
        const relay = opening.relay;
        logEvent("panel.console_open", { wallet, vm: name });
        relay.on("data", (chunk: Buffer) => ws.send(new Uint8Array(chunk)));
        relay.on("close", () => {
          if (reason === "closed") reason = "relay-closed";
          if (reason === "not-holder") ws.close(CONSOLE_REFUSED.notHolder, "this wallet no longer holds the server");
          else ws.close(1000, "console closed");
        });
        relay.on("error", () => relay.destroy());
        held = setInterval(async () => {
          const still = await heldServer(deps, wallet, name).catch(() => true);
          if (still) return;
          reason = "not-holder";
          ws.send(notice("this wallet no longer holds the server; the console is closed."));
          relay.end();
        }, CONSOLE_HELD_EVERY_MS);
      },
      onMessage(event) {
        if ("refused" in opening) return;
        const data = event.data;
        opening.relay.write(typeof data === "string" ? data : new Uint8Array(data as ArrayBuffer));
      },
      onClose() {
        clearInterval(held);
        if ("refused" in opening) return;
        opening.relay.end();
        logEvent("panel.console", {
          wallet,
          vm: name,
          reason: reason === "closed" ? "browser-closed" : reason,
          duration_s: Math.round((Date.now() - opened) / 100) / 10,
        });
      },
    }));
    const response = await upgrade(c, next);
    if (!response && "relay" in opening) opening.relay.end();
    return response;
  });
}
