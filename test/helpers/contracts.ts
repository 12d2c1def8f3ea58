/** Deploy and call the contracts on a per-test anvil snapshot. */
import { afterAll, beforeAll, beforeEach, expect } from "bun:test";
import {
  BaseError,
  getAddress,
  toFunctionSelector,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  type Abi,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
  type WalletClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { mockErc20Abi, mockErc20Bytecode } from "../../src/chain/contracts/generated/test/MockERC20.ts";
import {
  mockUniswapV2PairAbi,
  mockUniswapV2PairBytecode,
} from "../../src/chain/contracts/generated/test/MockUniswapV2Pair.ts";
import { startAnvil, type Anvil } from "./anvil.ts";

/** Viem clients for an anvil devnet: one read client and a signing client per dev account. */
export interface Devnet {
  anvil: Anvil;
  pub: PublicClient;
  wallets: WalletClient[];
  addresses: Hex[];
}

export function devnet(anvil: Anvil): Devnet {
  const chain = defineChain({
    id: anvil.chainId,
    name: "anvil",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [anvil.rpcUrl] } },
  });
  const transport = http(anvil.rpcUrl);
  const pub = createPublicClient({ chain, transport }) as PublicClient;
  const wallets = anvil.accounts.map((a) =>
    createWalletClient({ chain, transport, account: privateKeyToAccount(a.privateKey) }),
  );
  return { anvil, pub, wallets, addresses: anvil.accounts.map((a) => a.address) };
}

/** Deploy `bytecode` from dev account `from` and return its address. */
export async function deploy(
  net: Devnet,
  from: number,
  abi: Abi,
  bytecode: Hex,
  args: readonly unknown[] = [],
): Promise<Hex> {
  const wallet = net.wallets[from]!;
  const hash = await wallet.deployContract({
    abi,
    bytecode,
    args,
    account: wallet.account!,
    chain: wallet.chain,
  } as never);
  const receipt = await net.pub.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success" || !receipt.contractAddress) throw new Error(`deploy failed: ${hash}`);
  return getAddress(receipt.contractAddress);
}

/** Send a contract write from dev account `from` and wait for a successful receipt. */
export async function send(
  net: Devnet,
  from: number,
  req: { address: Hex; abi: Abi; functionName: string; args?: readonly unknown[]; value?: bigint },
): Promise<TransactionReceipt> {
  const wallet = net.wallets[from]!;
  const { request } = await net.pub.simulateContract({ ...req, account: wallet.account! } as never);
  const hash = await wallet.writeContract(request as never);
  const receipt = await net.pub.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`${req.functionName} reverted in ${hash}`);
  return receipt;
}

export async function read<T = unknown>(
  net: Devnet,
  req: { address: Hex; abi: Abi; functionName: string; args?: readonly unknown[] },
): Promise<T> {
  return (await net.pub.readContract(req as never)) as T;
}

/** Expect `work` to revert with custom error `name` (and, if given, exactly these arguments); a full signature matches a foreign error by selector. */
export async function expectRevert(work: Promise<unknown>, name: string, args?: readonly unknown[]): Promise<void> {
  let error: unknown;
  try {
    await work;
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(BaseError);
  const revert = (error as BaseError).walk(
    (e) => e instanceof ContractFunctionRevertedError,
  ) as ContractFunctionRevertedError | null;
  expect(revert).not.toBeNull();
  if (name.startsWith("reason:")) {
    expect(revert!.reason).toBe(name.slice("reason:".length));
    return;
  }
  if (name.includes("(")) {
    // An error from another contract (not in the called ABI): compare its selector.
    expect(revert!.raw?.slice(0, 10)).toBe(toFunctionSelector(name));
    return;
  }
  expect(revert!.data?.errorName).toBe(name);
  if (args) expect(revert!.data?.args ?? []).toEqual(args);
}

/** Deploy a test-only ERC20 and mint `amounts` to the given dev accounts. */
export async function deployToken(
  net: Devnet,
  name: string,
  decimals: number,
  holders: Array<[number, bigint]> = [],
): Promise<Hex> {
  const token = await deploy(net, 0, mockErc20Abi, mockErc20Bytecode, [name, name, decimals]);
  for (const [who, amount] of holders)
    await send(net, 0, { address: token, abi: mockErc20Abi, functionName: "mint", args: [net.addresses[who], amount] });
  return token;
}

export async function deployPair(
  net: Devnet,
  token0: Hex,
  token1: Hex,
  reserve0: bigint,
  reserve1: bigint,
): Promise<Hex> {
  return await deploy(net, 0, mockUniswapV2PairAbi, mockUniswapV2PairBytecode, [token0, token1, reserve0, reserve1]);
}

export async function approve(net: Devnet, from: number, token: Hex, spender: Hex, amount: bigint): Promise<void> {
  await send(net, from, { address: token, abi: mockErc20Abi, functionName: "approve", args: [spender, amount] });
}

export async function balanceOf(net: Devnet, token: Hex, who: Hex): Promise<bigint> {
  return await read<bigint>(net, { address: token, abi: mockErc20Abi, functionName: "balanceOf", args: [who] });
}

/** Timestamp of the block a receipt was mined in. */
export async function minedAt(net: Devnet, receipt: TransactionReceipt): Promise<bigint> {
  return (await net.pub.getBlock({ blockNumber: receipt.blockNumber })).timestamp;
}

/**
 * One anvil for a describe block: `fixture` deploys once, and every test starts from the state it
 * left (snapshot before each test, revert after), so tests cannot leak chain state into each other.
 */
export function chainPerTest(fixture: (anvil: Anvil, net: Devnet) => Promise<void>): void {
  let anvil: Anvil | undefined;
  let snap: Hex;
  beforeAll(async () => {
    anvil = await startAnvil();
    await fixture(anvil, devnet(anvil));
    snap = await anvil.snapshot();
  });
  beforeEach(async () => {
    await anvil!.revert(snap);
    snap = await anvil!.snapshot();
  });
  afterAll(async () => {
    await anvil?.stop();
  });
}
