/** Step `addressbook`: the admin, server, dev and broker roles, and revenue-share.json. */
import { isAddressEqual, type Hex } from "viem";
import { loadAddressbook, type Addressbook } from "../../core/config/addressbook.ts";
import { paths } from "../../core/paths.ts";
import { resultOf } from "../context.ts";
import { writeConfig, type SetupStep } from "./types.ts";

const same = (a: Addressbook[string] | undefined, b: Addressbook[string]) =>
  a !== undefined && isAddressEqual(a.address as Hex, b.address as Hex) && a.keyfile === b.keyfile;

export const addressbook: SetupStep = {
  name: "addressbook",
  title: "addressbook and revenue share",
  async run(ctx) {
    const f = ctx.file;
    const share = f.revenue_share;
    // The original put the admin wallet in for dev and broker when none was given.
    const roles: Addressbook = {
      admin: { address: f.admin.wallet },
      server: { address: resultOf(ctx, "wallet").address as string, keyfile: paths.deployerKey },
      dev: { address: share.dev ?? f.admin.wallet },
      broker: { address: share.broker ?? f.admin.wallet },
    };
    const book = loadAddressbook();
    const changed = Object.entries(roles)
      .filter(([name, entry]) => !same(book[name], entry))
      .map(([name]) => name);
    if (changed.length > 0) await ctx.agent.call("addressbook-save", { entries: { ...book, ...roles } });
    const recipients = ["dev", "broker"].map((role) => ({ role, percent: share.percent / 2 }));
    const revenue = { enabled: share.enabled, total_percent: share.percent, recipients };
    await writeConfig(ctx, "revenue-share.json", `${JSON.stringify(revenue, null, 2)}\n`);
    return { roles: Object.keys(roles), changed, revenue_share: share.enabled ? `${share.percent}%` : "off" };
  },
};
