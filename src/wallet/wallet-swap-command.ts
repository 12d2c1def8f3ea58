/** Swap ETH for tokens through a Uniswap V2 router. */
import { defineCommand } from "citty";
import { erc20Abi, getAddress, parseAbi, type Hex } from "viem";
import { BlockhostError } from "../core/errors.ts";
import { paths } from "../core/paths.ts";
import { addressProblem } from "../core/address.ts";
import { onChain } from "../chain/errors.ts";
import { writeAndWait } from "../chain/tx.ts";
import { parseAmount } from "./amounts.ts";
import { WalletEnv } from "./env.ts";

const routerAbi = parseAbi([
  "function WETH() view returns (address)",
  "function getAmountsOut(uint256 amountIn, address[] path) view returns (uint256[] amounts)",
  "function swapExactTokensForETH(uint256 amountIn, uint256 amountOutMin, address[] path, address to, uint256 deadline) returns (uint256[] amounts)",
]);

/** Uniswap V2 Router02 per chain id; web3-defaults.yaml `uniswap_v2.router` overrides. WETH is asked from the router. */
const ROUTERS: Record<number, Hex> = {
  1: "0x7a250d5630B4cF539739dF2C5dAcb4c659F2488D",
  8453: "0x4752ba5DBc23f44D87826276BF6Fd6b1C372aD24",
  11155111: "0xeE567Fe1712Faf6149d80dA1E6934E354124CfE3",
};

/** Minimum output below the quote, and how long the swap may wait in the mempool. */
export const SWAP_SLIPPAGE_BPS = 200n;
export const SWAP_DEADLINE_SECONDS = 300n;

function routerAddress(env: WalletEnv): Hex {
  const configured = env.web3.uniswap_v2?.router;
  if (configured !== undefined) {
    const problem = addressProblem(configured);
    if (problem) throw new BlockhostError("E_CONFIG_INVALID", `${paths.web3Config}: uniswap_v2.router: ${problem}`);
    return getAddress(configured as string);
  }
  const known = ROUTERS[env.access.chain.id];
  if (!known)
    throw new BlockhostError(
      "E_CONFIG_MISSING",
      `${paths.web3Config}: uniswap_v2.router is not set and chain ${env.access.chain.id} has no built-in Uniswap V2 router`,
    );
  return known;
}

export const swap = defineCommand({
  meta: {
    name: "swap",
    description:
      "Sell an amount of a token for ETH on Uniswap V2 (at most 2% below the quote, within 5 minutes); the wallet signs and receives",
    examples: ["blockhost wallet swap 50 stable eth hot"],
  },
  args: {
    amount: {
      type: "positional",
      required: true,
      valueHint: "AMOUNT",
      description: "Amount of the token to sell, decimals allowed",
    },
    token: {
      type: "positional",
      required: true,
      valueHint: "TOKEN",
      description: "stable (the contract's stablecoin) or a token's 0x address",
    },
    eth: { type: "positional", required: true, valueHint: "eth", description: "The word eth: what you receive" },
    wallet: {
      type: "positional",
      required: true,
      valueHint: "WALLET",
      description: "Addressbook name of a wallet whose key this host holds",
    },
  },
  async run({ args }) {
    if (args.eth.toLowerCase() !== "eth")
      throw new BlockhostError("E_USAGE", `only swaps to eth are supported, got "${args.eth.slice(0, 20)}"`);
    const env = WalletEnv.load();
    const token = await env.token(args.token);
    if (token === "eth") throw new BlockhostError("E_USAGE", "swap sells a token for ETH; eth → eth makes no sense");
    const signer = env.signer(args.wallet);
    const amountIn = parseAmount(args.amount, (await env.tokenInfo(token)).decimals);
    const router = routerAddress(env);
    const read = env.access.publicClient;
    const weth = await onChain("router WETH()", () =>
      read.readContract({ address: router, abi: routerAbi, functionName: "WETH" }),
    );
    const path = [token, weth] as const;
    const quote = await onChain("getAmountsOut", () =>
      read.readContract({
        address: router,
        abi: routerAbi,
        functionName: "getAmountsOut",
        args: [amountIn, [...path]],
      }),
    );
    const minOut = (quote[1]! * (10_000n - SWAP_SLIPPAGE_BPS)) / 10_000n;
    const allowance = await onChain("allowance", () =>
      read.readContract({ address: token, abi: erc20Abi, functionName: "allowance", args: [signer.address, router] }),
    );
    if (allowance < amountIn)
      await writeAndWait(
        env.access,
        signer,
        { address: token, abi: erc20Abi, functionName: "approve", args: [router, amountIn] },
        "approve router",
      );
    // The deadline follows chain time, not this host's clock.
    const deadline = (await onChain("latest block", () => read.getBlock())).timestamp + SWAP_DEADLINE_SECONDS;
    const { hash } = await writeAndWait(
      env.access,
      signer,
      {
        address: router,
        abi: routerAbi,
        functionName: "swapExactTokensForETH",
        args: [amountIn, minOut, [...path], signer.address, deadline],
      },
      "swap",
    );
    process.stdout.write(`${hash}\n`);
  },
});
