/** Send ETH or an ERC20 token. */
import { erc20Abi, type Hex } from "viem";
import type { PrivateKeyAccount } from "viem/accounts";
import { walletClientFor } from "../chain/client.ts";
import { onChain } from "../chain/errors.ts";
import { waitForSuccess, writeAndWait } from "../chain/tx.ts";
import type { Token, WalletEnv } from "./env.ts";

/** Send `amount` base units of `token` (or ETH) from `from` to `to`; returns the mined transaction hash. */
export async function transfer(
  env: WalletEnv,
  from: PrivateKeyAccount,
  token: Token,
  to: Hex,
  amount: bigint,
): Promise<Hex> {
  const doing = `send to ${to}`;
  if (token === "eth") {
    const wallet = walletClientFor(env.access, from);
    const hash = await onChain(doing, () =>
      wallet.sendTransaction({ account: from, chain: env.access.chain, to, value: amount }),
    );
    await waitForSuccess(env.access, hash, doing);
    return hash;
  }
  const { hash } = await writeAndWait(
    env.access,
    from,
    { address: token, abi: erc20Abi, functionName: "transfer", args: [to, amount] },
    doing,
  );
  return hash;
}
