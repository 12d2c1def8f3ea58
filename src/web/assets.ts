/** The embedded browser bundles and stylesheet, and the Hono routes that serve them under /assets/. */
import { Hono } from "hono";
import { BUNDLES, STYLE_CSS } from "./client/generated/bundles.ts";

const NAME = /^[a-z][a-z0-9-]{0,31}$/;

/** `/assets/<name>.js` and `/assets/style.css`, served from memory with long-lived cache headers. */
export function assetRoutes(): Hono {
  const app = new Hono();
  app.get("/style.css", (c) => {
    c.header("Cache-Control", "public, max-age=3600");
    return c.body(STYLE_CSS, 200, { "Content-Type": "text/css; charset=utf-8" });
  });
  app.get("/:file{[a-z][a-z0-9-]{0,31}\\.js}", (c) => {
    const name = c.req.param("file").slice(0, -3);
    const code = NAME.test(name) ? BUNDLES[name] : undefined;
    if (code === undefined) return c.text("not found", 404);
    c.header("Cache-Control", "public, max-age=3600");
    return c.body(code, 200, { "Content-Type": "text/javascript; charset=utf-8" });
  });
  return app;
}
