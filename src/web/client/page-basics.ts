/** Page helpers with no wallet code in them (a page's first script loads only these; viem comes later, when needed). */

/** The JSON the server rendered into `#page-data` (see Page's `data`). */
export function pageData<T>(): T {
  const json = document.getElementById("page-data")?.dataset.json;
  if (!json) throw new Error("page data missing");
  return JSON.parse(json) as T;
}

/** Announce progress or an error in the page's live region (read by screen readers). */
export function setStatus(text: string, kind: "info" | "ok" | "error" = "info"): void {
  const el = document.getElementById("status");
  if (!el) return;
  el.textContent = text;
  el.className = kind === "info" ? "" : kind;
}

/** A short message for a wallet or network error (the wallet's own words when it gave any). */
export function errorText(e: unknown): string {
  const err = e as { shortMessage?: string; message?: string; code?: number };
  if (err.code === 4001) return "You rejected the request in your wallet.";
  return (err.shortMessage ?? err.message ?? String(e)).split("\n")[0] ?? "unknown error";
}
