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
const pos = (valueHint: string, description: string) => ({
  type: "positional" as const,
  required: true as const,
  valueHint,
  description,
});
const optPos = (valueHint: string, description: string) => ({
  type: "positional" as const,
  required: false as const,
  valueHint,
  description,
});
const TOKEN = "eth, stable (the contract's stablecoin) or a token's 0x address";
const ROLE_WITH_KEY = "Addressbook name of a wallet whose key this host holds (server, hot, …)";

export const send = defineCommand({
  meta: {
    name: "send",
    description: "Send an amount of ETH or a token from one of this host's wallets; prints the transaction hash",
    examples: [
      "blockhost wallet send 0.1 eth hot admin",
      "blockhost wallet send 25 stable server 0x52908400098527886E0F7030069857D2E4169EE7",
    ],
  },
  args: {
    amount: pos("AMOUNT", "Amount in whole units, decimals allowed, e.g. 1.5"),
    token: pos("TOKEN", TOKEN),
    from: pos("FROM", ROLE_WITH_KEY),
    to: pos("TO", "Addressbook name or 0x address of the receiver"),
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
    description: "Show a wallet's ETH and one token, or ETH and every token customers pay with (with its USD value)",
    examples: ["blockhost wallet balance server", "blockhost wallet balance admin stable"],
  },
  args: {
    who: pos("WALLET", "Addressbook name or 0x address"),
    token: optPos("TOKEN", "eth, stable, or a token's (or NFT contract's) 0x address"),
    json: { type: "boolean", description: "Print JSON: the address and each balance with its symbol and USD value" },
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
        "Send an amount split among two or more receivers by whole percentages (the last one gets the rounding remainder)",
      usage: ["blockhost wallet split <AMOUNT> <TOKEN> <RATIOS> <FROM> <TO> <TO>..."],
      examples: ["blockhost wallet split 100 stable 60/40 server admin dev"],
    },
    args: {
      amount: pos("AMOUNT", "Amount in whole units, decimals allowed"),
      token: pos("TOKEN", TOKEN),
      ratios: pos("RATIOS", "Percentages separated by / that add up to 100, e.g. 50/30/20"),
      from: pos("FROM", ROLE_WITH_KEY),
      to: pos("TO", "Two or more receivers (addressbook names or 0x addresses), one per percentage"),
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
      "Move what customers paid out of the subscription contract to a wallet: one token, or every payment token",
    usage: ["blockhost wallet withdraw <TO>", "blockhost wallet withdraw <TOKEN> <TO>"],
    examples: ["blockhost wallet withdraw admin", "blockhost wallet withdraw stable admin"],
  },
  args: {
    first: pos("TOKEN", "The token to withdraw (stable or a 0x address), or the receiver to withdraw every token"),
    second: optPos("TO", "Receiver (addressbook name or 0x address) when a token is given"),
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
