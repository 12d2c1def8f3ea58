/** `blockhost subscriptions list`: subscriptions as the engine recorded them from the chain, with their VMs. */
import { defineCommand } from "citty";
import { addressArg } from "../core/address.ts";
import { printJson, printTable } from "../core/output.ts";
import { openExistingDatabase } from "../core/state/db.ts";
import { listSubscriptions, type SubscriptionListRow } from "../core/state/subscriptions.ts";

/** One subscription as `subscriptions list --json` prints it. */
export interface SubscriptionView {
  chain_id: number;
  id: number;
  wallet: string;
  plan_id: number;
  expires_at: string;
  cancelled: boolean;
  vm_name: string | null;
  vm_status: string | null;
}

const view = (r: SubscriptionListRow): SubscriptionView => ({
  chain_id: r.chain_id,
  id: r.subscription_id,
  wallet: r.subscriber,
  plan_id: r.plan_id,
  expires_at: new Date(r.expires_at * 1000).toISOString(),
  cancelled: r.cancelled === 1,
  vm_name: r.vm_name,
  vm_status: r.vm_status,
});

const list = defineCommand({
  meta: {
    name: "list",
    description: "List the subscriptions the engine has seen on the chain: id, wallet, plan, expiry, VM",
    examples: [
      "blockhost subscriptions list",
      "blockhost subscriptions list --wallet 0x52908400098527886E0F7030069857D2E4169EE7",
    ],
  },
  args: {
    wallet: { type: "string", description: "Only the subscriptions of this wallet", valueHint: "WALLET" },
    json: {
      type: "boolean",
      description: "Print JSON: chain id, id, wallet, plan, expiry, cancelled or not, VM name and state",
    },
  },
  run({ args }) {
    const wallet = args.wallet === undefined ? undefined : addressArg(args.wallet, "--wallet");
    const db = openExistingDatabase();
    let rows: SubscriptionView[];
    try {
      rows = listSubscriptions(db, wallet).map(view);
    } finally {
      db.close();
    }
    if (args.json) return printJson(rows);
    printTable(
      ["ID", "WALLET", "PLAN", "EXPIRES", "VM", "VM STATUS"],
      rows.map((s) => [
        s.id,
        s.wallet,
        s.plan_id,
        `${s.expires_at}${s.cancelled ? " (cancelled)" : ""}`,
        s.vm_name,
        s.vm_status,
      ]),
    );
  },
});

export default defineCommand({
  meta: {
    name: "subscriptions",
    description: "Subscriptions bought on the chain, as this host recorded them",
    examples: ["blockhost subscriptions list --json"],
  },
  subCommands: { list },
});
