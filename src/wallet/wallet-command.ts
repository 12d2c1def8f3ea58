/** `blockhost wallet`: the original `bw` (balances, sends, swaps). */
import { defineCommand } from "citty";
import { configStable, planCreate, setEncrypt } from "./wallet-admin-command.ts";
import { balance, send, split, withdraw } from "./wallet-funds-command.ts";
import { planList } from "./wallet-plan-list-command.ts";
import { swap } from "./wallet-swap-command.ts";
import { who } from "./wallet-who-command.ts";

/**
 * `blockhost wallet …`: the original `bw`. Roles come from the addressbook; keys only from the
 * key files it names. Chain and contracts from web3-defaults.yaml.
 */
export default defineCommand({
  meta: {
    name: "wallet",
    description: "Balances, payments and contract settings, with the wallets named in the addressbook",
    examples: ["blockhost wallet balance server", "blockhost wallet send 0.1 eth hot admin"],
  },
  subCommands: {
    send,
    balance,
    split,
    withdraw,
    swap,
    who,
    config: defineCommand({
      meta: {
        name: "config",
        description: "Settings of the subscription contract",
        examples: ["blockhost wallet config stable"],
      },
      subCommands: { stable: configStable },
    }),
    plan: defineCommand({
      meta: {
        name: "plan",
        description: "Subscription plans customers choose from",
        examples: ['blockhost wallet plan create "Basic VM" 100', "blockhost wallet plan list"],
      },
      subCommands: { create: planCreate, list: planList },
    }),
    set: defineCommand({
      meta: {
        name: "set",
        description: "Change an access NFT",
        examples: ["blockhost wallet set encrypt 3 0x1234"],
      },
      subCommands: { encrypt: setEncrypt },
    }),
  },
});
