/**
 * A server's usage graphs on "My servers": `/my/servers/NAME/usage` (page) and `/usage.json` (the
 * same numbers), only for the wallet that holds the server's NFT right now (ownerOf at request time).
 */
import type { Hono } from "hono";
import { now } from "../../../core/clock.ts";
import { oneLine } from "../../../core/errors.ts";
import { logEvent } from "../../../core/log.ts";
import { vmUsageSeries } from "../../../core/usage-series.ts";
import { Page } from "../../layout.tsx";
import type { WalletEnv } from "../../session/index.ts";
import { RangeNav, rangeOf, UsageCharts } from "../../usage-chart.tsx";
import type { ServeDeps } from "../deps.ts";
import { heldServer } from "./servers.ts";

const VM_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/;

/** Routes under the panel's session (mounted after its sign-in check). */
export function panelUsageRoutes(app: Hono<WalletEnv>, deps: ServeDeps): void {
  const held = async (wallet: `0x${string}`, name: string) => {
    const vm = VM_NAME.test(name) ? await heldServer(deps, wallet, name) : null;
    if (!vm) logEvent("panel.refused", { wallet, vm: name.slice(0, 64), action: "usage", reason: "not-holder" });
    return vm;
  };

  app.get("/servers/:name/usage.json", async (c) => {
    const wallet = c.get("walletSession").wallet;
    const name = c.req.param("name");
    try {
      if (!(await held(wallet, name)))
        return c.json({ error: `this wallet does not hold a server named ${name.slice(0, 64)}` }, 404);
      return c.json(vmUsageSeries(deps.db, name, rangeOf(c.req.query("range")), now().getTime()));
    } catch (e) {
      return c.json({ error: oneLine(e) }, 503);
    }
  });

  app.get("/servers/:name/usage", async (c) => {
    const wallet = c.get("walletSession").wallet;
    const name = c.req.param("name");
    const range = rangeOf(c.req.query("range"));
    const base = { title: deps.site.title, accent: deps.site.accent, nonce: c.get("secureHeadersNonce") };
    let vm: Awaited<ReturnType<typeof held>>;
    try {
      vm = await held(wallet, name);
    } catch (e) {
      return c.html(
        <Page {...base}>
          <p class="error" role="alert">{`Could not check who holds ${name.slice(0, 64)}: ${oneLine(e)}`}</p>
        </Page>,
        503,
      );
    }
    if (!vm)
      return c.html(
        <Page {...base}>
          <p role="alert">{`This wallet does not hold a server named ${name.slice(0, 64)}.`}</p>
          <p>
            <a href="/my">Back to My servers</a>
          </p>
        </Page>,
        404,
      );
    const series = vmUsageSeries(deps.db, vm.vm_name, range, now().getTime());
    return c.html(
      <Page {...base}>
        <section class="card" aria-labelledby="h-usage">
          <h2 id="h-usage">{`Usage of ${vm.vm_name}`}</h2>
          <p>
            <a href="/my">Back to My servers</a>
          </p>
          <RangeNav base={`/my/servers/${encodeURIComponent(vm.vm_name)}/usage`} current={range} />
          <UsageCharts
            series={series}
            prefix="vm"
            empty="No usage recorded in this period yet: figures appear a minute or two after the server runs."
          />
        </section>
      </Page>,
    );
  });
}
