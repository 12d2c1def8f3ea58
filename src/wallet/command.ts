/** `blockhost wallet`: the original `bw` (balances, sends, swaps). */
import { defineCommand } from "citty";
import { configStable, planCreate, setEncrypt } from "./admin.ts";
import { balance, send, split, withdraw } from "./funds.ts";
import { planList } from "./plan-list.ts";
import { swap } from "./swap.ts";
import { who } from "./who.ts";

/**
 * `blockhost wallet …`: the original `bw`. Roles come from the addressbook; keys only from the
 * key files it names. Chain and contracts from web3-defaults.yaml.
 */
export default defineCommand({
  meta: {
    name: "wallet",
    description: "Move funds and manage the contracts with addressbook wallets (the original bw)",
  },
  subCommands: {
    send,
    balance,
    split,
    withdraw,
    swap,
    who,
    config: defineCommand({
      meta: { name: "config", description: "Contract settings" },
      subCommands: { stable: configStable },
    }),
    plan: defineCommand({
      meta: { name: "plan", description: "Subscription plans" },
      subCommands: { create: planCreate, list: planList },
    }),
    set: defineCommand({ meta: { name: "set", description: "NFT settings" }, subCommands: { encrypt: setEncrypt } }),
  },
});
