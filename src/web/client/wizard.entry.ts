/** Browser side of the setup wizard: wallet gate and restore, RPC check, deployer balance and funding, finalize progress. */
import { parseEther, formatEther, type Address, type Hex } from "viem";
import {
  chainFor,
  connectWallet,
  ensureChain,
  errorText,
  pageData,
  setStatus,
  signText,
  walletClient,
} from "./wallet.ts";

interface Data {
  page: string;
  csrf: string;
  deployer?: string;
}
interface StepView {
  step: string;
  title: string;
  status: string;
  error: string | null;
}
interface FinalizeView {
  running: boolean;
  error: string | null;
  complete: boolean;
  steps: StepView[];
  progress: Record<string, string>;
}

const data = pageData<Data>();
const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T | null;
const value = (id: string) => ($<HTMLInputElement>(id)?.value ?? "").trim();

async function api<T>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json", "x-csrf-token": data.csrf },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(json.error ?? `HTTP ${res.status}`);
  return json;
}

function on(id: string, handler: () => Promise<void>): void {
  $(id)?.addEventListener("click", () => {
    handler().catch((e) => setStatus(errorText(e), "error"));
  });
}

function walletPage(): void {
  on("connect-sign", async () => {
    setStatus("Connecting to your wallet…");
    const address = await connectWallet();
    setStatus("Sign the public secret in your wallet…");
    const publicSecret = value("public_secret");
    if (!publicSecret) throw new Error("Enter the public secret first.");
    const signature = await signText(address, publicSecret);
    await api("/api/wallet", { address, signature, public_secret: publicSecret });
    setStatus(`Wallet ${address} verified.`, "ok");
    location.reload();
  });
  on("restore", async () => {
    const file = $<HTMLInputElement>("backup")?.files?.[0];
    if (!file) throw new Error("Choose a backup file first.");
    const { next } = await api<{ next: string }>("/api/restore", { backup: await file.text() });
    location.assign(next);
  });
}

function chainFromForm() {
  const id = Number(value("chain_id"));
  const rpc = value("rpc_url");
  if (!Number.isSafeInteger(id) || id < 1 || !/^https?:\/\//.test(rpc))
    throw new Error("Enter the chain id and RPC URL first.");
  return { id, rpc };
}

function blockchainPage(): void {
  $<HTMLSelectElement>("preset")?.addEventListener("change", (e) => {
    const [id, rpc] = (e.target as HTMLSelectElement).value.split(" ");
    if (!id || !rpc) return;
    $<HTMLInputElement>("chain_id")!.value = id;
    $<HTMLInputElement>("rpc_url")!.value = rpc;
  });
  on("rpc-check", async () => {
    const { id, rpc } = chainFromForm();
    const r = await api<{ ok: boolean; message: string }>("/api/rpc-check", { rpc_url: rpc, chain_id: id });
    setStatus(r.message, r.ok ? "ok" : "error");
  });
  on("fund", async () => {
    const { id, rpc } = chainFromForm();
    const chain = chainFor(id, rpc);
    await ensureChain(chain);
    const from = await connectWallet();
    setStatus("Confirm the transfer in your wallet…");
    const hash = await walletClient(from as Address, chain).sendTransaction({
      account: from as Address,
      chain,
      to: data.deployer as Hex,
      value: parseEther(value("fund_amount") || "0"),
    });
    setStatus(`Sent ${value("fund_amount")} ETH to the deployer (transaction ${hash}).`, "ok");
  });
  const poll = async () => {
    try {
      const { id, rpc } = chainFromForm();
      const r = await api<{ wei: string }>("/api/balance", { rpc_url: rpc, chain_id: id });
      $("deployer-balance")!.textContent = formatEther(BigInt(r.wei));
    } catch {
      /* not configured yet or the RPC is down: the balance stays as shown */
    }
  };
  void poll();
  setInterval(poll, 3_000);
}

function hypervisorPage(): void {
  on("hypervisor-check", async () => {
    const form = document.querySelector<HTMLFormElement>("form[method=post]")!;
    const fields: Record<string, string> = {};
    for (const [k, v] of new FormData(form)) if (k !== "csrf" && typeof v === "string") fields[k] = v;
    setStatus("Checking this host…");
    const r = await api<{ ok: boolean; message: string; lines: string[] }>("/api/hypervisor-check", fields);
    setStatus(r.message, r.ok ? "ok" : "error");
    $("hypervisor-findings")!.replaceChildren(
      ...r.lines.map((l) => Object.assign(document.createElement("li"), { textContent: l })),
    );
  });
}

function renderProgress(view: FinalizeView): void {
  const list = $("progress")!;
  list.replaceChildren(
    ...view.steps.map((s) => {
      const li = document.createElement("li");
      li.dataset.state = s.status;
      li.dataset.step = s.step;
      const detail = s.error ?? view.progress[s.step];
      li.textContent = `${s.title}: ${s.status}${detail ? ` — ${detail}` : ""}`;
      if (s.status === "failed" && !view.running) {
        const retry = document.createElement("button");
        retry.type = "button";
        retry.textContent = `Retry ${s.step}`;
        retry.addEventListener("click", () => {
          api<FinalizeView>("/api/finalize/retry", { step: s.step })
            .then(watch)
            .catch((e) => setStatus(errorText(e), "error"));
        });
        li.append(" ", retry);
      }
      return li;
    }),
  );
  if (view.complete) {
    $("finalize-done")!.hidden = false;
    setStatus("Setup complete.", "ok");
  } else if (view.error && !view.running) setStatus(view.error, "error");
  else if (view.running) setStatus("Setting up…");
}

let events: EventSource | undefined;

/** Show the run and, while it runs, follow it by server-sent events until it settles. */
function watch(view: FinalizeView): void {
  renderProgress(view);
  if (!view.running || events) return;
  events = new EventSource("/api/finalize/events");
  events.addEventListener("progress", (e) => {
    const next = JSON.parse((e as MessageEvent<string>).data) as FinalizeView;
    renderProgress(next);
    if (!next.running) {
      events?.close();
      events = undefined;
    }
  });
  // EventSource reconnects by itself after a dropped connection; say so meanwhile.
  events.addEventListener("error", () => setStatus("Connection to the wizard lost; reconnecting…", "error"));
}

function summaryPage(): void {
  on("confirm", async () => {
    $<HTMLButtonElement>("confirm")!.disabled = true;
    watch(await api<FinalizeView>("/api/finalize", {}));
  });
  api<FinalizeView>("/api/finalize/status")
    .then((v) => {
      if (v.steps.some((s) => s.status !== "pending")) watch(v);
    })
    .catch(() => {});
}

(
  ({ wallet: walletPage, blockchain: blockchainPage, hypervisor: hypervisorPage, summary: summaryPage }) as Record<
    string,
    () => void
  >
)[data.page]?.();
