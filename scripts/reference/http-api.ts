/** docs/reference/http-api.md from the routes the Hono apps register (each app built with inert dependencies). */
import type { Hono } from "hono";
import { publicApp } from "../../src/web/public/app.tsx";
import { redirectApp } from "../../src/web/public/https.ts";
import { createWizardApp } from "../../src/web/wizard/app.ts";
import { signingPageApp } from "../../src/vmauth/signing-page/app.ts";
import { code, table } from "./markdown.ts";

/** Stands in for every dependency: route registration never calls one, so nothing here runs. */
// biome-ignore lint/suspicious/noExplicitAny: an inert stand-in of any dependency shape
const inert = (): any =>
  new Proxy(() => {}, {
    get: (_t, k) => (k === "then" || typeof k === "symbol" ? undefined : inert()),
    apply: () => inert(),
    construct: () => inert(),
  });

function routes(app: Hono): string[][] {
  const seen = new Set<string>();
  const rows: string[][] = [];
  for (const r of app.routes) {
    if (r.method === "ALL") continue; // middleware, and catch-alls the surface's text describes
    const key = `${r.method} ${r.path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push([r.method, code(r.path)]);
  }
  return rows;
}

export function httpApiPage(): string {
  const surfaces: Array<{ title: string; about: string; app: Hono }> = [
    {
      title: "`blockhost serve` (HTTPS)",
      about:
        "The public front: the signup page, the status API (`/api/v1`), credential reveal and the admin panel (`/admin`, wallet sign-in).",
      app: publicApp(inert()) as unknown as Hono,
    },
    {
      title: "`blockhost serve` (HTTP port)",
      about:
        "Answers ACME http-01 challenges; every other request is redirected (301) to the same path on the HTTPS origin.",
      app: redirectApp("https://host.invalid"),
    },
    {
      title: "`blockhost wizard`",
      about: "The first-boot setup wizard, behind a one-time code printed on the console.",
      app: createWizardApp(inert()).app as unknown as Hono,
    },
    {
      title: "`blockhost signing-page` (inside a customer VM)",
      about: "The page where a customer signs the login code with their wallet.",
      app: signingPageApp() as unknown as Hono,
    },
  ];
  const out = [
    "# HTTP routes",
    "",
    "Every route each web surface registers. Path parameters are `:name`, with their allowlist in `{…}` where the route",
    "restricts them; request bodies are validated by the route's schema (`src/core/schema.ts`) and unknown fields refused.",
    "",
  ];
  for (const s of surfaces) out.push(`## ${s.title}`, "", s.about, "", table(["method", "path"], routes(s.app)));
  return out.join("\n");
}
