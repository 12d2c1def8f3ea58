// The gas check: price ETH from the Uniswap V2 WETH/stablecoin pair's reserves and swap stablecoin for ETH when server runs low.
import { encodeFunctionData, erc20Abi, getAddress, parseAbi, parseUnits, type Hex } from "viem";
import type { ChainAccess } from "../../chain/client.ts";
import { onChain } from "../../chain/errors.ts";
import type { FundManagerConfig } from "../../core/config/fund-manager.ts";
import type { Web3Config } from "../../core/config/index.ts";
import { BlockhostError } from "../../core/errors.ts";
import { paths } from "../../core/paths.ts";
import { addressProblem } from "../../core/address.ts";

export const pairAbi = parseAbi([
  "function getReserves() view returns (uint112 reserve0, uint112 reserve1, uint32 blockTimestampLast)",
  "function token0() view returns (address)",
]);
export const routerAbi = parseAbi([
  "function getAmountsOut(uint256 amountIn, address[] path) view returns (uint256[] amounts)",
  "function swapExactTokensForETH(uint256 amountIn, uint256 amountOutMin, address[] path, address to, uint256 deadline) returns (uint256[] amounts)",
]);

/** Minimum output below the pair's price, and how long the swap may wait in the mempool. */
export const GAS_SWAP_SLIPPAGE_BPS = 200n;
export const GAS_SWAP_DEADLINE_SECONDS = 300n;

export interface Uniswap {
  router: Hex;
  weth: Hex;
  usdc: Hex;
  pair: Hex;
}

/** Ethereum mainnet's Uniswap V2 Router02, WETH, USDC and the USDC/WETH pair; other chains configure `uniswap_v2:`. */
const BUILT_IN: Record<number, Uniswap> = {
  1: {
    router: "0x7a250d5630B4cF539739dF2C5dAcb4c659F2488D",
    weth: "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2",
    usdc: "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
    pair: "0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc",
  },
};

/** web3-defaults.yaml `uniswap_v2: {router, weth, usdc, usdc_weth_pair}`, else the built-in set; null = no swap on this chain. */
export function uniswapFor(web3: Web3Config): Uniswap | null {
  const cfg = web3.uniswap_v2;
  if (!cfg) return BUILT_IN[web3.blockchain.chain_id] ?? null;
  const addr = (key: string): Hex => {
    const v = cfg[key];
    const problem = addressProblem(v);
    if (problem) throw new BlockhostError("E_CONFIG_INVALID", `${paths.web3Config}: uniswap_v2.${key}: ${problem}`);
    return getAddress(v as string);
  };
  const u = { router: addr("router"), weth: addr("weth"), usdc: addr("usdc"), pair: addr("usdc_weth_pair") };
  return /^0x0{40}$/.test(u.pair) ? null : u;
}

/** USD cents per whole ETH from the pair's reserves. */
export async function ethPriceCents(access: ChainAccess, u: Uniswap, usdcDecimals: number): Promise<bigint> {
  const read = access.publicClient;
  const [[r0, r1], token0] = await onChain("read the WETH/USDC pair", () =>
    Promise.all([
      read.readContract({ address: u.pair, abi: pairAbi, functionName: "getReserves" }),
      read.readContract({ address: u.pair, abi: pairAbi, functionName: "token0" }),
    ]),
  );
  const [weth, usdc] = token0.toLowerCase() === u.weth.toLowerCase() ? [r0, r1] : [r1, r0];
  if (weth === 0n) throw new BlockhostError("E_CHAIN", `Uniswap pair ${u.pair} has no WETH reserve`);
  return (usdc * 100n * 10n ** 18n) / (weth * 10n ** BigInt(usdcDecimals));
}

export interface SwapPlan {
  amountIn: bigint;
  minOut: bigint;
  quote: bigint;
  priceCents: bigint;
  serverEthCents: bigint;
}

/**
 * Whether server should swap: its ETH is worth less than gas_low_threshold_usd and it holds
 * gas_swap_amount_usd of USDC. The minimum output is the pair's price less 2%; a router quote
 * below that is refused rather than accepted.
 */
export async function planGasSwap(
  access: ChainAccess,
  u: Uniswap,
  cfg: FundManagerConfig,
  server: { eth: bigint; usdc: bigint },
  usdcDecimals: number,
): Promise<SwapPlan | string> {
  const priceCents = await ethPriceCents(access, u, usdcDecimals);
  const serverEthCents = (server.eth * priceCents) / 10n ** 18n;
  if (serverEthCents >= BigInt(Math.round(cfg.gas_low_threshold_usd * 100)))
    return `server ETH worth ${serverEthCents} cents is not below gas_low_threshold_usd`;
  const amountIn = parseUnits(cfg.gas_swap_amount_usd.toFixed(Math.min(usdcDecimals, 6)), usdcDecimals);
  if (amountIn === 0n) return "gas_swap_amount_usd is 0";
  if (server.usdc < amountIn) return `server holds less than gas_swap_amount_usd ($${cfg.gas_swap_amount_usd}) in USDC`;
  const fair = (amountIn * 10n ** 18n * 100n) / (priceCents * 10n ** BigInt(usdcDecimals));
  const minOut = (fair * (10_000n - GAS_SWAP_SLIPPAGE_BPS)) / 10_000n;
  const quote = (
    await onChain("router getAmountsOut", () =>
      access.publicClient.readContract({
        address: u.router,
        abi: routerAbi,
        functionName: "getAmountsOut",
        args: [amountIn, [u.usdc, u.weth]],
      }),
    )
  )[1]!;
  if (quote < minOut)
    return `router quote ${quote} wei is more than 2% below the pair price (${minOut} wei); not swapping`;
  return { amountIn, minOut, quote, priceCents, serverEthCents };
}

export const approveData = (spender: Hex, amount: bigint) =>
  encodeFunctionData({ abi: erc20Abi, functionName: "approve", args: [spender, amount] });
export const swapData = (u: Uniswap, p: SwapPlan, to: Hex, deadline: bigint) =>
  encodeFunctionData({
    abi: routerAbi,
    functionName: "swapExactTokensForETH",
    args: [p.amountIn, p.minOut, [u.usdc, u.weth], to, deadline],
  });
