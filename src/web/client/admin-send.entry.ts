/** The admin send page's script: follow the send job's events until its transaction is mined or it gives up. */
import type { SendView } from "../public/admin/sends.tsx";
import { pageData, setStatus } from "./wallet.ts";

const { events } = pageData<{ events: string }>();
const source = new EventSource(events);

source.addEventListener("send", (e) => {
  const view = JSON.parse((e as MessageEvent<string>).data) as SendView | null;
  if (!view) return source.close();
  const state = document.getElementById("send-state");
  const tx = document.getElementById("send-tx");
  const error = document.getElementById("send-error");
  if (state) state.textContent = view.state;
  if (tx) tx.textContent = view.tx ?? "not signed yet";
  if (error) {
    error.textContent = view.error ?? "";
    error.hidden = !view.error;
  }
  if (view.state === "done") setStatus(`Sent: transaction ${view.tx} is mined.`, "ok");
  else if (view.state === "dead") setStatus(`The send failed for good: ${view.error}`, "error");
  else if (view.state === "failed") setStatus(`Not sent yet, the engine retries: ${view.error}`, "error");
  else setStatus(view.tx ? `Transaction ${view.tx} sent; waiting for it to be mined…` : "Queued for the engine…");
  if (view.done) source.close();
});
