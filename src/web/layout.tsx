/** The HTML shell every BlockHost page renders into: title, accent colour, inline stylesheet, deferred scripts, live status. */
import type { Child } from "hono/jsx";
import { STYLE_CSS } from "./client/generated/bundles.ts";

export interface PageProps {
  title: string;
  /** CSS colour from blockhost.yaml; anything that is not a plain colour falls back to the default. */
  accent?: string | undefined;
  /** The per-request CSP nonce (`c.get("secureHeadersNonce")`). */
  nonce?: string | undefined;
  /** Browser entries to load, by name (`src/web/client/<name>.entry.ts`). */
  scripts?: string[];
  /** JSON the page's script reads with `pageData()` (an attribute: escaped by JSX, never executed). */
  data?: unknown;
  children?: Child;
}

const COLOUR = /^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20})$/;

/** A plain colour or undefined: the accent goes into a stylesheet, so nothing else may pass. */
export function safeAccent(accent: string | undefined): string | undefined {
  return accent !== undefined && COLOUR.test(accent) ? accent : undefined;
}

export function Page(props: PageProps) {
  const accent = safeAccent(props.accent);
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title}</title>
        <link rel="icon" href="data:," />
        {/* Inline (one small stylesheet): the first paint waits for no request. Our own constant, never user input. */}
        <style nonce={props.nonce} dangerouslySetInnerHTML={{ __html: STYLE_CSS }} />
        {accent && <style nonce={props.nonce}>{`:root { --accent: ${accent}; }`}</style>}
        {(props.scripts ?? []).map((name) => (
          <script type="module" src={`/assets/${name}.js`} nonce={props.nonce} />
        ))}
      </head>
      <body>
        <header class="site">
          <h1>{props.title}</h1>
        </header>
        <main>
          <div id="status" role="status" aria-live="polite"></div>
          {props.children}
        </main>
        {props.data !== undefined && <div id="page-data" hidden data-json={JSON.stringify(props.data)} />}
      </body>
    </html>
  );
}
