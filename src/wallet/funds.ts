/** `blockhost wallet send/balance/split/withdraw`. */
import { defineCommand } from "citty";
import type { Hex } from "viem";
import { variadic } from "../core/cli.ts";
import { BlockhostError } from "../core/errors.ts";
import { printJson } from "../core/output.ts";
import { blockhostSubscriptionsAbi as subsAbi } from "../chain/contracts/generated/BlockhostSubscriptions.ts";
import { activePaymentTokens } from "../chain/payment-methods.ts";
import { writeAndWait } from "../chain/tx.ts";
import { formatAmount, formatUsd, parseAmount, splitByRatios } from "./amounts.ts";
import { WalletEnv, type Token } from "./env.ts";

const say = (line: string) => process.stdout.write(`${line}\n`);

/** One balance as `wallet balance --json` prints it (amount as a decimal string, USD value in cents). */
interface BalanceRow {
  symbol: string;
  token: string;
  amount: string;
  usd_cents: string | null;
}
const pos = (description: string) => ({ type: "positional" as const, required: true as const, description });
const optPos = (description: string) => ({ type: "positional" as const, required: false as const, description });

export const send = defineCommand({
  meta: {
    name: "send",
    description:
      "Send AMOUNT of TOKEN from role FROM (needs a key file) to TO (role or 0x); prints the transaction hash",
  },
  args: {
    amount: pos("decimal amount, e.g. 1.5"),
    token: pos("eth, stable or a 0x token address"),
    from: pos("addressbook role with a key file"),
    to: pos("addressbook role or 0x address"),
  },
  async run({ args }) {
    const env = WalletEnv.load();
    const to = env.target(args.to);
    const token = await env.token(args.token);
    const [from, info] = [env.signer(args.from), await env.tokenInfo(token)];
    const { transfer } = await import("./transfer.ts");
    say(await transfer(env, from, token, to, parseAmount(args.amount, info.decimals)));
  },
});

export const balance = defineCommand({
  meta: {
    name: "balance",
    description: "Show ETH plus one token's balance, or every payment-method token with its USD value",
  },
  args: {
    who: pos("addressbook role or 0x address"),
    token: optPos("eth, stable, or a 0x token (or NFT) address"),
    json: { type: "boolean", description: "print JSON: {address, balances: [{symbol, token, amount, usd_cents}]}" },
  },
  async run({ args }) {
    const env = WalletEnv.load();
    const who = env.target(args.who);
    const balances: BalanceRow[] = [
      { symbol: "ETH", token: "eth", amount: formatAmount(await env.balance("eth", who), 18), usd_cents: null },
    ];
    if (args.token !== undefined) {
      const token = await env.token(args.token);
      if (token !== "eth") {
        const info = await env.tokenInfo(token);
        const amount = formatAmount(await env.balance(token, who), info.decimals);
        balances.push({ symbol: info.symbol, token, amount, usd_cents: null });
      }
    } else {
      for (const { token, paymentMethodId: pm } of await activePaymentTokens(env.access, env.subscriptions)) {
        const [info, amount] = [await env.tokenInfo(token), await env.balance(token, who)];
        const cents = await env.access.publicClient
          .readContract({ address: env.subscriptions, abi: subsAbi, functionName: "getTokenPriceUsdCents", args: [pm] })
          .catch(() => undefined);
        const usd = cents === undefined ? null : ((amount * cents) / 10n ** BigInt(info.decimals)).toString();
        balances.push({ symbol: info.symbol, token, amount: formatAmount(amount, info.decimals), usd_cents: usd });
      }
    }
    if (args.json) return printJson({ address: who, balances });
    for (const b of balances) {
      if (b.token === "eth") say(`ETH ${b.amount}`);
      else if (args.token !== undefined) say(`${b.symbol} ${b.amount} (${b.token})`);
      else {
        const usd = b.usd_cents === null ? "price unavailable" : formatUsd(BigInt(b.usd_cents));
        say(`${b.symbol} ${b.amount} (${usd}) (${b.token})`);
      }
    }
  },
});

export const split = variadic(
  defineCommand({
    meta: {
      name: "split",
      description:
        "Split AMOUNT of TOKEN from FROM among recipients by whole percentages separated by / (e.g. 60/40, sum 100); the last recipient gets the rounding remainder",
    },
    args: {
      amount: pos("decimal amount"),
      token: pos("eth, stable or a 0x token address"),
      ratios: pos("percentages separated by /, e.g. 50/30/20"),
      from: pos("addressbook role with a key file"),
      to: pos("two or more recipients (roles or 0x addresses)"),
    },
    async run({ args }) {
      const recipients = (args._ as string[]).slice(4);
      if (recipients.length < 2) throw new BlockhostError("E_USAGE", "split needs at least two recipients");
      const env = WalletEnv.load();
      const token = await env.token(args.token);
      const [from, targets, info] = [
        env.signer(args.from),
        recipients.map((r) => env.target(r)),
        await env.tokenInfo(token),
      ];
      const shares = splitByRatios(parseAmount(args.amount, info.decimals), args.ratios, targets.length);
      const { transfer } = await import("./transfer.ts");
      for (const [i, to] of targets.entries()) {
        try {
          say(
            `${to} ${formatAmount(shares[i]!, info.decimals)} ${info.symbol} ${await transfer(env, from, token, to, shares[i]!)}`,
          );
        } catch (e) {
          const done =
            i === 0 ? "nothing was sent" : `the first ${i} of ${targets.length} transfers were sent (listed above)`;
          throw new BlockhostError("E_CHAIN", `${(e as Error).message}; ${done}`);
        }
      }
    },
  }),
);

async function withdrawOne(env: WalletEnv, token: Hex, to: Hex): Promise<string | undefined> {
  const info = await env.tokenInfo(token);
  const held = await env.balance(token, env.subscriptions);
  if (held === 0n) return undefined;
  const { hash } = await writeAndWait(
    env.access,
    env.server(),
    { address: env.subscriptions, abi: subsAbi, functionName: "withdrawFunds", args: [token, to] },
    `withdraw ${info.symbol}`,
  );
  return `${formatAmount(held, info.decimals)} ${info.symbol} ${hash}`;
}

export const withdraw = defineCommand({
  meta: {
    name: "withdraw",
    description:
      "Withdraw the subscription contract's balance to TO, signed by the server wallet: one TOKEN, or every payment token when only TO is given",
  },
  args: {
    first: pos("TOKEN (eth is refused) or TO when withdrawing everything"),
    second: optPos("TO (role or 0x) when a TOKEN is given"),
  },
  async run({ args }) {
    const env = WalletEnv.load();
    const to = env.target(args.second ?? args.first);
    let tokens: Token[];
    if (args.second !== undefined) {
      tokens = [await env.token(args.first)];
      if (tokens[0] === "eth")
        throw new BlockhostError("E_USAGE", "the contract holds no ETH: payments are ERC20 tokens");
    } else {
      tokens = (await activePaymentTokens(env.access, env.subscriptions)).map((p) => p.token);
    }
    let any = false;
    for (const token of tokens as Hex[]) {
      const line = await withdrawOne(env, token, to);
      if (line) {
        any = true;
        say(line);
      }
    }
    if (!any) say("nothing to withdraw");
  },
});
