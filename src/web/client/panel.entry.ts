/**
 * "My servers": sign-in, power and reinstall requests, live states (SSE). The page is painted by the
 * server; the wallet code (viem) loads only when a signature is needed.
 */
import type { ServerView } from "../public/panel/servers.ts";
import type { PanelData } from "../public/panel/page.tsx";
import { expiryText } from "../public/panel/extend.tsx";
import { extendFromCard } from "./panel-extend.ts";

const status = (text: string, kind: "info" | "ok" | "error" = "info") => {
  const el = document.getElementById("status");
  if (!el) return;
  el.textContent = text;
  el.className = kind === "info" ? "" : kind;
};
const wallet = () => import("./panel-wallet.ts");
const dataEl = document.getElementById("page-data");
const data = dataEl ? (JSON.parse(dataEl.dataset.json ?? "{}") as PanelData) : null;

async function post(path: string, body: unknown): Promise<{ job?: string; error?: string }> {
  const r = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json", "x-csrf-token": data?.csrf ?? "" },
    body: JSON.stringify(body),
  });
  const answer = (await r.json().catch(() => ({}))) as { job?: string; error?: string };
  if (!r.ok) throw new Error(answer.error ?? `${path} answered ${r.status}`);
  return answer;
}

const card = (name: string) => document.querySelector<HTMLElement>(`li[data-server="${CSS.escape(name)}"]`);

/** Follow one job: the status line says when the engine has done it (or why it failed). */
function follow(key: string, label: string): void {
  const events = new EventSource(`/my/jobs/${encodeURIComponent(key)}/events`);
  events.addEventListener("job", (e) => {
    const job = JSON.parse((e as MessageEvent<string>).data) as { state: string; error: string | null };
    if (job.state === "done") status(`${label}: done.`, "ok");
    else if (job.state === "failed") status(`${label} failed: ${job.error}`, "error");
    else status(`${label}: ${job.state}…`);
    if (job.state === "done" || job.state === "failed") events.close();
  });
}

function paint(list: ServerView[]): void {
  for (const s of list) {
    const el = card(s.name);
    if (!el) continue;
    el.querySelector('[data-field="state"]')!.textContent = s.state;
    el.querySelector('[data-field="problem"]')!.textContent = s.problem ? `last action failed: ${s.problem}` : "";
    el.querySelector('[data-field="os"]')!.textContent = s.os;
    el.querySelector('[data-field="expires"]')!.textContent = expiryText(s.expires_at);
    for (const b of el.querySelectorAll<HTMLButtonElement>("button[data-op], button[data-reinstall]"))
      b.disabled = s.busy;
  }
}

async function power(name: string, op: string, label: string): Promise<void> {
  const { job } = await post(`/my/servers/${encodeURIComponent(name)}/power`, { op });
  status(`${label} ${name}: asked…`);
  if (job) follow(job, `${label} ${name}`);
}

async function reinstall(name: string, os: string, label: string): Promise<void> {
  const w = await wallet();
  const challenge = await post(`/my/servers/${encodeURIComponent(name)}/reinstall/challenge`, { os });
  status("Confirm the reinstall in your wallet…");
  const confirmation = await w.signChallenge(challenge as never);
  const { job } = await post(`/my/servers/${encodeURIComponent(name)}/reinstall`, { os, confirmation });
  status(`Reinstall ${name} with ${label}: asked…`);
  if (job) follow(job, `Reinstall ${name}`);
}

function main(): void {
  document.getElementById("btn-panel-signin")?.addEventListener("click", async () => {
    try {
      await (await wallet()).signIn();
      status("Signed in.", "ok");
      location.reload();
    } catch (e) {
      status(e instanceof Error ? e.message : String(e), "error");
    }
  });
  document.getElementById("btn-panel-logout")?.addEventListener("click", async () => {
    await post("/my/logout", {}).catch(() => {});
    location.reload();
  });
  document.getElementById("server-cards")?.addEventListener("click", (ev) => {
    const b = (ev.target as HTMLElement).closest("button");
    const name = b?.closest<HTMLElement>("li[data-server]")?.dataset.server;
    if (!b || !name) return;
    const run = b.dataset.op
      ? power(name, b.dataset.op, b.textContent ?? b.dataset.op)
      : b.dataset.extend && data
        ? extendFromCard(card(name)!, name, b.dataset.extend, data.pay, wallet, status)
        : b.dataset.reinstall !== undefined
          ? (() => {
              const select = card(name)!.querySelector<HTMLSelectElement>('[data-field="os-choice"]')!;
              return reinstall(name, select.value, select.selectedOptions[0]?.textContent ?? select.value);
            })()
          : null;
    run?.catch((e: unknown) => status(e instanceof Error ? e.message : String(e), "error"));
  });
  if (data) {
    const live = new EventSource("/my/events");
    live.addEventListener("servers", (e) => paint(JSON.parse((e as MessageEvent<string>).data) as ServerView[]));
  }
}

main();
