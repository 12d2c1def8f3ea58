/**
 * The serial console of one server in the page: xterm.js (embedded, no CDN) over the WebSocket at
 * `/my/servers/:name/console`. Keys go to the server as typed; what the server prints comes back.
 * A refused or ended console says why in the status line (the close reason the server sends).
 */
import { FitAddon } from "@xterm/addon-fit";
import { Terminal } from "@xterm/xterm";
import xtermCss from "@xterm/xterm/css/xterm.css" with { type: "text" };

const CSS = `${xtermCss}
.console { margin-top: .75rem; border: 1px solid #8884; border-radius: 6px; overflow: hidden; }
.console-bar { display: flex; gap: .5rem; align-items: center; justify-content: space-between; padding: .25rem .5rem; }
.console-screen { height: 22rem; max-height: 60vh; background: #000; padding: 2px; }
`;

let styled = false;
let current: { close(): void } | null = null;

/** xterm adds <style> elements of its own; under this page's CSP they need the page's nonce. */
function allowTerminalStyles(nonce: string): void {
  if (styled) return;
  styled = true;
  const create = document.createElement.bind(document);
  document.createElement = ((tag: string, options?: ElementCreationOptions) => {
    const el = create(tag, options);
    if (tag.toLowerCase() === "style") (el as HTMLStyleElement).nonce = nonce;
    return el;
  }) as typeof document.createElement;
  const style = document.createElement("style");
  style.textContent = CSS;
  document.head.append(style);
}

const status = (text: string, kind: "info" | "ok" | "error" = "info") => {
  const el = document.getElementById("status");
  if (!el) return;
  el.textContent = text;
  el.className = kind === "info" ? "" : kind;
};

/** Open (or reopen) the console of `name` under its card; one console on the page at a time. */
export function openConsole(card: HTMLElement, name: string, csrf: string, nonce: string): void {
  current?.close();
  allowTerminalStyles(nonce);
  const box = document.createElement("section");
  box.className = "console";
  box.setAttribute("aria-label", `Console of ${name}`);
  const bar = document.createElement("div");
  bar.className = "console-bar";
  const title = document.createElement("strong");
  title.textContent = `Console of ${name}`;
  const closeButton = document.createElement("button");
  closeButton.type = "button";
  closeButton.className = "secondary";
  closeButton.textContent = "Close console";
  const screen = document.createElement("div");
  screen.className = "console-screen";
  bar.append(title, closeButton);
  box.append(bar, screen);
  card.append(box);

  const term = new Terminal({ fontSize: 14, cursorBlink: true, scrollback: 2000, screenReaderMode: false });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(screen);
  fit.fit();
  // xterm paints only while the terminal is on screen: bring it into view under the card.
  box.scrollIntoView({ block: "nearest" });
  const resize = new ResizeObserver(() => fit.fit());
  resize.observe(screen);

  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(
    `${scheme}://${location.host}/my/servers/${encodeURIComponent(name)}/console?csrf=${encodeURIComponent(csrf)}`,
  );
  ws.binaryType = "arraybuffer";
  let opened = false;
  ws.onopen = () => {
    opened = true;
    status(`Console of ${name}: connected.`, "ok");
    box.dataset.state = "open";
    // getty prints its prompt again on Enter: the customer sees where they are at once.
    ws.send("\r");
    term.focus();
  };
  ws.onmessage = (e) => term.write(typeof e.data === "string" ? e.data : new Uint8Array(e.data as ArrayBuffer));
  const input = term.onData((d) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(d);
  });
  ws.onclose = (e) => {
    box.dataset.state = "closed";
    const why = e.reason || (opened ? "closed" : "could not connect");
    status(`Console of ${name}: ${why}.`, e.code === 1000 || e.code === 1005 ? "info" : "error");
    term.write(`\r\n[console closed: ${why}]\r\n`);
  };
  const close = () => {
    input.dispose();
    ws.close(1000);
    resize.disconnect();
    term.dispose();
    box.remove();
    if (current === handle) current = null;
  };
  const handle = { close };
  current = handle;
  closeButton.addEventListener("click", () => {
    close();
    status(`Console of ${name}: closed.`);
    card.querySelector<HTMLButtonElement>("button[data-console]")?.focus();
  });
}
