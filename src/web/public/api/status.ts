/** The public status API: host facts, plans and capacity; one subscription's provisioning state. No secrets. */
import { Hono } from "hono";
import { oneLine } from "../../../core/errors.ts";
import { VERSION } from "../../../version.ts";
import { freeCapacity } from "../capacity.ts";
import type { ServeDeps } from "../deps.ts";
import { subscriptionStatus } from "../provisioning.ts";

const ID_RE = /^\d{1,12}$/;
/** The host summary is the same for every client: built at most once a second. */
const STATUS_CACHE_MS = 1_000;

export function statusApi(deps: ServeDeps): Hono {
  const api = new Hono();
  let cached: { at: number; body: string } | null = null;

  api.get("/status", async (c) => {
    try {
      c.header("Cache-Control", "no-store");
      if (cached && Date.now() - cached.at < STATUS_CACHE_MS)
        return c.body(cached.body, 200, { "Content-Type": "application/json" });
      const [plans, stablecoin] = await Promise.all([deps.chain.plans(), deps.chain.stablecoin()]);
      const body = JSON.stringify({
        version: VERSION,
        chain_id: deps.chainId,
        // The operator's rpc_url may carry a provider key: only the public one is published.
        public_rpc_url: deps.publicRpcUrl,
        contracts: { subscriptions: deps.chain.subscriptions, nft: deps.chain.nft },
        stablecoin,
        server_public_key: deps.serverPublicKey,
        public_secret: deps.publicSecret,
        plans: plans.filter((p) => p.active),
        capacity: deps.dbConfig ? freeCapacity(deps.db, deps.dbConfig) : null,
      });
      cached = { at: Date.now(), body };
      return c.body(body, 200, { "Content-Type": "application/json" });
    } catch (e) {
      return c.json({ error: oneLine(e) }, 503);
    }
  });

  api.get("/subscriptions/:id", (c) => {
    const id = c.req.param("id");
    if (!ID_RE.test(id)) return c.json({ error: "subscription id must be a whole number" }, 400);
    const status = subscriptionStatus(deps.db, deps.chainId, Number(id));
    c.header("Cache-Control", "no-store");
    // Not seen yet is an answer, not an error: the page polls right after paying, before the engine has read the block.
    return c.json(status);
  });

  return api;
}
