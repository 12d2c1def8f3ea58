/**
 * The "Console" button of each server on My servers: loads the terminal (xterm.js, its own bundle,
 * console-term) only when a customer opens a console, so the page's first paint does not wait for it.
 */
import type { PanelData } from "../public/panel/page.tsx";

const TERMINAL = "/assets/console-term.js";

document.addEventListener("click", async (ev) => {
  const button = (ev.target as Element | null)?.closest<HTMLButtonElement>("button[data-console]");
  const card = button?.closest<HTMLElement>("li[data-server]");
  if (!button || !card) return;
  const data = JSON.parse(document.getElementById("page-data")?.dataset.json ?? "{}") as PanelData;
  // The page's CSP nonce, for the styles the terminal adds (script nonces stay readable as a property).
  const nonce = document.querySelector<HTMLScriptElement>("script[nonce]")?.nonce ?? "";
  const url = TERMINAL;
  const terminal = (await import(/* @vite-ignore */ url)) as typeof import("./console-term.entry.ts");
  terminal.openConsole(card, button.dataset.console ?? "", data.csrf, nonce);
});
