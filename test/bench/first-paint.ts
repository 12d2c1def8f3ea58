/**
 * First paint of the signup page and of "My servers" (signed out and signed in with one server) in
 * Chromium over TLS, beside a static HTML page of the same size served by the same server in the same run.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Cookie } from "playwright-core";
import { publicApp } from "../../src/web/public/app.tsx";
import { loadServeDeps } from "../../src/web/public/deps.ts";
import { chromiumUnavailable, launchChromium, walletPage } from "../helpers/browser.ts";
import { EngineEnv } from "../helpers/engine-env.ts";
import { writeHttpsConfig } from "../helpers/serve.ts";
import type { BenchRow } from "./agent.ts";

const RUNS = 11;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A static page of `bytes` bytes: a heading and paragraphs, no script, no stylesheet request. */
function staticPage(bytes: number): string {
  const head = "<!doctype html><html><head><title>baseline</title></head><body><h1>Hello</h1>";
  const tail = "</body></html>";
  const para = "<p>A static paragraph of text that stands in for the page's content.</p>";
  let body = "";
  while (head.length + body.length + para.length + tail.length <= bytes) body += para;
  return head + body + "x".repeat(Math.max(0, bytes - head.length - body.length - tail.length)) + tail;
}

type Paint = { fcp: number; ttfb: number };

/** One load of `url` in a fresh context: first contentful paint and first byte of the HTML (ms after navigation start). */
async function paintOnce(browser: Browser, url: string, cookies: Cookie[]): Promise<Paint> {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true });
  try {
    if (cookies.length) await ctx.addCookies(cookies);
    const page = await ctx.newPage();
    await page.goto(url, { waitUntil: "load" });
    return await page.evaluate(
      () =>
        new Promise<Paint>((resolve) => {
          const ttfb = (performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming).responseStart;
          const seen = performance.getEntriesByName("first-contentful-paint")[0];
          if (seen) return resolve({ fcp: seen.startTime, ttfb });
          new PerformanceObserver((l) => resolve({ fcp: l.getEntries()[0]!.startTime, ttfb })).observe({
            type: "paint",
            buffered: true,
          });
        }),
    );
  } finally {
    await ctx.close();
  }
}

/**
 * Medians over RUNS rounds (2 warm-ups dropped); each round loads every page once, in turn, so a
 * change in the machine's load falls on the pages and the baseline alike.
 */
async function firstPaints(browser: Browser, pages: Array<{ url: string; cookies?: Cookie[] }>): Promise<Paint[]> {
  const seen: Paint[][] = pages.map(() => []);
  for (let round = 0; round < RUNS; round++)
    for (const [i, p] of pages.entries()) seen[i]!.push(await paintOnce(browser, p.url, p.cookies ?? []));
  return seen.map((xs) => ({
    fcp: median(xs.slice(2).map((x) => x.fcp)),
    ttfb: median(xs.slice(2).map((x) => x.ttfb)),
  }));
}

export async function benchFirstPaint(): Promise<BenchRow[]> {
  const why = chromiumUnavailable();
  if (why) return [{ name: `first paint benchmarks skipped: ${why}`, value: "-", unit: "" }];
  const env = await EngineEnv.create();
  const saved = process.env.BLOCKHOST_ROOT;
  process.env.BLOCKHOST_ROOT = env.root;
  const engine = env.startEngine();
  let browser: Browser | undefined;
  let server: ReturnType<typeof Bun.serve> | undefined;
  let serveDeps: ReturnType<typeof loadServeDeps> | undefined;
  try {
    await writeHttpsConfig(env.root);
    const https = JSON.parse(readFileSync(join(env.root, "etc/blockhost/https.json"), "utf8")) as {
      cert_file: string;
      key_file: string;
    };
    serveDeps = loadServeDeps({ tls: true });
    const app = publicApp(serveDeps, { apiPerMinute: 1_000_000 });
    let baseline = "";
    server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      tls: { cert: Bun.file(https.cert_file), key: Bun.file(https.key_file) },
      fetch: (req, srv) =>
        new URL(req.url).pathname === "/static-baseline.html"
          ? new Response(baseline, { headers: { "content-type": "text/html; charset=utf-8" } })
          : app.fetch(req, srv),
    });
    const origin = `https://127.0.0.1:${server.port}`;
    const insecure = { tls: { rejectUnauthorized: false } } as RequestInit;
    const signupBytes = (await (await fetch(`${origin}/`, insecure)).arrayBuffer()).byteLength;
    baseline = staticPage(signupBytes);
    const bought = await env.buy(1);
    await env.servedVm(bought.subscriptionId, "the bench buyer's server");
    browser = await launchChromium();
    // Sign in once in Chromium (one server on the card); later contexts carry its session cookie.
    const wp = await walletPage(browser, {
      privateKey: env.anvil.accounts[1]!.privateKey,
      rpcUrl: env.anvil.rpcUrl,
      chainId: env.anvil.chainId,
    });
    await wp.page.goto(`${origin}/my`);
    await wp.page.click("#btn-panel-signin");
    await wp.page.waitForSelector("li[data-server]", { timeout: 60_000 });
    const session = await wp.context.cookies();
    const myBytes = (await wp.page.content()).length;
    await wp.close();
    const [signup, myOut, myIn, floor] = (await firstPaints(browser, [
      { url: `${origin}/` },
      { url: `${origin}/my` },
      { url: `${origin}/my`, cookies: session },
      { url: `${origin}/static-baseline.html` },
    ])) as [Paint, Paint, Paint, Paint];
    const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
    const ms = (t: Paint) => `${t.fcp.toFixed(0)} (${t.ttfb.toFixed(0)})`;
    return [
      { name: `signup page (${kb(signupBytes)} HTML)`, value: ms(signup), unit: "ms FCP (first byte)" },
      { name: "My servers, signed out", value: ms(myOut), unit: "ms FCP (first byte)" },
      { name: `My servers, signed in, one server (${kb(myBytes)} HTML)`, value: ms(myIn), unit: "ms FCP (first byte)" },
      { name: "  baseline: static HTML page, same size, same server", value: ms(floor), unit: "ms FCP (first byte)" },
      { name: "  signup / baseline (FCP)", value: (signup.fcp / floor.fcp).toFixed(2), unit: "×" },
      { name: "  My servers signed in / baseline (FCP)", value: (myIn.fcp / floor.fcp).toFixed(2), unit: "×" },
    ];
  } finally {
    await browser?.close();
    await server?.stop(true);
    serveDeps?.db.close();
    await engine.stop();
    if (saved === undefined) delete process.env.BLOCKHOST_ROOT;
    else process.env.BLOCKHOST_ROOT = saved;
    await env.stop();
  }
}
