/** Admin wallet routes: balances per role, withdraw, sends queued as engine jobs, addressbook edits and new wallets via the agent. */
import type { Hono } from "hono";
import { formatUnits, getAddress, type Hex } from "viem";
import { editableName, newWalletName } from "../../../addressbook/edit.ts";
import { loadAddressbook } from "../../../core/config/addressbook.ts";
import { BlockhostError } from "../../../core/errors.ts";
import { literal, object, str } from "../../../core/schema.ts";
import { evmAddress } from "../../../core/validators.ts";
import { parseAmount } from "../../../wallet/amounts.ts";
import { formBody } from "../form-body.ts";
import { IDEMPOTENCY_RE, newIdempotencyKey, queueSend, sendRoutes } from "./sends.tsx";
import type { AdminEnv, AdminKit } from "./kit.tsx";
import { type WalletRow, WalletPage } from "./wallet-page.tsx";

const role = str(/^[a-z0-9-]{1,64}$/, "an addressbook role", 64);
const sendForm = object({
  from: role,
  to: str(/^([a-z0-9-]{1,64}|0x[0-9a-fA-F]{40})$/, "an addressbook role or a 0x address", 64),
  token: literal("eth", "stable"),
  amount: str(/^\d{1,30}(\.\d{1,18})?$/, "a decimal amount like 1.5", 50),
  /** Names the send: the same key twice is the same send (a retried POST never pays again). */
  idempotency_key: str(IDEMPOTENCY_RE, "the form's idempotency key (reload the page)", 64),
});
const entryForm = object({ name: role, address: evmAddress });
const addressForm = object({ address: evmAddress });
const nameForm = object({ name: role });
const withdrawForm = object({ to: role });

function entry(name: string) {
  const book = loadAddressbook();
  const e = Object.hasOwn(book, name) ? book[name] : undefined;
  if (!e) throw new BlockhostError("E_NOT_FOUND", `"${name}" is not in the addressbook`);
  return e;
}

export function walletRoutes(app: Hono<AdminEnv>, kit: AdminKit): void {
  const { deps } = kit;

  app.get("/wallet", async (c) => {
    const coin = await deps.chain.stablecoin();
    const rows: WalletRow[] = await Promise.all(
      Object.entries(loadAddressbook()).map(async ([name, e]) => {
        const b = await deps.chain.balances(e.address as Hex);
        return {
          name,
          address: e.address,
          canSign: Boolean(e.keyfile),
          native: formatUnits(b.native, 18),
          stable: b.stable === null || !coin ? null : formatUnits(b.stable, coin.decimals),
        };
      }),
    );
    const held = coin ? (await deps.chain.balances(deps.chain.subscriptions)).stable : null;
    return c.html(
      <WalletPage
        {...kit.frame(c, kit.notice(c))}
        rows={rows}
        coin={coin?.symbol ?? null}
        contractBalance={held === null || !coin ? null : formatUnits(held, coin.decimals)}
        idempotencyKey={newIdempotencyKey()}
      />,
    );
  });

  app.post("/wallet/withdraw", async (c) => {
    try {
      const f = await formBody(c, withdrawForm);
      const coin = await deps.chain.stablecoin();
      if (!coin) throw new BlockhostError("E_CONFIG_MISSING", "the subscription contract has no stablecoin");
      const to = entry(f.to);
      kit.action(c, "wallet.withdraw", { to: f.to, address: to.address, token: coin.address });
      await deps.chain.withdraw(coin.address, to.address as Hex);
      return kit.done(c, "/admin/wallet", `withdrawn to ${f.to}`);
    } catch (e) {
      return kit.failed(c, "withdraw", e);
    }
  });

  // The engine sends (a `send` job named by the form's idempotency key); this page only queues and follows it.
  app.post("/wallet/send", async (c) => {
    try {
      const { from, to, token, amount, idempotency_key } = await formBody(c, sendForm);
      const source = entry(from);
      if (!source.keyfile) throw new BlockhostError("E_USAGE", `"${from}" has no key file: it cannot send`);
      const target = to.startsWith("0x") ? getAddress(to) : getAddress(entry(to).address);
      const coin = token === "stable" ? await deps.chain.stablecoin() : null;
      if (token === "stable" && !coin) throw new BlockhostError("E_CONFIG_MISSING", "the contract has no stablecoin");
      const units = parseAmount(amount, coin ? coin.decimals : 18);
      const payload = {
        from_role: from,
        from_address: getAddress(source.address),
        to: target,
        token: coin ? coin.address : ("eth" as const),
        units: units.toString(),
        admin: c.get("walletSession").wallet,
      };
      const key = queueSend(deps, idempotency_key, payload);
      kit.action(c, "wallet.send", { job: key, from, to: target, token: payload.token, amount });
      return kit.done(
        c,
        `/admin/wallet/sends/${key}`,
        `send of ${amount} ${coin?.symbol ?? "ETH"} from ${from} to ${to} queued`,
      );
    } catch (e) {
      return kit.failed(c, "send", e);
    }
  });

  sendRoutes(app, kit);

  app.post("/wallet/addressbook", async (c) => {
    try {
      const f = await formBody(c, entryForm);
      const name = editableName(f.name);
      const address = getAddress(f.address);
      kit.action(c, "addressbook.add", { name, address });
      await deps.agent.call("addressbook-add", { name, address });
      return kit.done(c, "/admin/wallet", `${name} added`);
    } catch (e) {
      return kit.failed(c, "add the entry", e);
    }
  });

  app.post("/wallet/addressbook/:name{[a-z0-9-]{1,64}}", async (c) => {
    try {
      const name = editableName(c.req.param("name"));
      const address = getAddress((await formBody(c, addressForm)).address);
      if (entry(name).keyfile)
        throw new BlockhostError("E_CONFLICT", `"${name}" has a key file: its address is the key's`);
      kit.action(c, "addressbook.update", { name, address });
      await deps.agent.call("addressbook-update", { name, address });
      return kit.done(c, "/admin/wallet", `${name} now ${address}`);
    } catch (e) {
      return kit.failed(c, "update the entry", e);
    }
  });

  app.post("/wallet/addressbook/:name{[a-z0-9-]{1,64}}/remove", async (c) => {
    try {
      const name = editableName(c.req.param("name"));
      kit.action(c, "addressbook.remove", { name });
      await deps.agent.call("addressbook-remove", { name });
      return kit.done(c, "/admin/wallet", `${name} removed`);
    } catch (e) {
      return kit.failed(c, "remove the entry", e);
    }
  });

  app.post("/wallet/generate", async (c) => {
    try {
      const name = newWalletName((await formBody(c, nameForm)).name);
      kit.action(c, "wallet.generate", { name });
      const { address } = await deps.agent.call("generate-wallet", { name });
      return kit.done(c, "/admin/wallet", `new wallet ${name}: ${address}`);
    } catch (e) {
      return kit.failed(c, "generate the wallet", e);
    }
  });
}
