/** What the public web front reads from (and the admin panel writes to) the chain, with a short cache for plans. */
import { BaseError, ContractFunctionRevertedError, erc20Abi, type Account, type Hex } from "viem";
import type { ChainAccess } from "../../chain/client.ts";
import { accessCredentialNftAbi } from "../../chain/contracts/generated/AccessCredentialNFT.ts";
import { blockhostSubscriptionsAbi } from "../../chain/contracts/generated/BlockhostSubscriptions.ts";
import { chainError, onChain } from "../../chain/errors.ts";
import { type NonceLedger, writeAndWait } from "../../chain/tx.ts";
import { BlockhostError } from "../../core/errors.ts";

export interface Plan {
  id: number;
  name: string;
  price_cents_per_day: number;
  active: boolean;
}
export interface Stablecoin {
  address: Hex;
  symbol: string;
  decimals: number;
}

/** Plans are read at most this often: the status API is public and must not turn into RPC load. */
const PLAN_CACHE_MS = 10_000;
const MAX_PLANS = 200;

export class ServeChain {
  private plansCache: { at: number; plans: Plan[] } | null = null;
  private coinCache: Stablecoin | null | undefined;

  constructor(
    readonly access: ChainAccess,
    readonly subscriptions: Hex,
    readonly nft: Hex,
    private readonly owner: Account | null,
    /** Where the host wallet's nonces are reserved: the engine mints with the same key at the same time. */
    private readonly ledger: NonceLedger,
  ) {}

  private get read() {
    return this.access.publicClient;
  }

  /** Every plan (active or not) from the subscription contract, ids from 1. */
  async plans(fresh = false): Promise<Plan[]> {
    if (!fresh && this.plansCache && Date.now() - this.plansCache.at < PLAN_CACHE_MS) return this.plansCache.plans;
    const count = Number(
      await onChain("read the plan count", () =>
        this.read.readContract({
          address: this.subscriptions,
          abi: blockhostSubscriptionsAbi,
          functionName: "getTotalPlanCount",
        }),
      ),
    );
    const ids = Array.from({ length: Math.min(count, MAX_PLANS) }, (_, i) => i + 1);
    const plans = await Promise.all(
      ids.map(async (id) => {
        const [name, cents, active] = await onChain(`read plan ${id}`, () =>
          this.read.readContract({
            address: this.subscriptions,
            abi: blockhostSubscriptionsAbi,
            functionName: "getPlan",
            args: [BigInt(id)],
          }),
        );
        return { id, name, price_cents_per_day: Number(cents), active };
      }),
    );
    this.plansCache = { at: Date.now(), plans };
    return plans;
  }

  /** Payment method 1 (the stablecoin), or null when the contract has none yet. */
  async stablecoin(): Promise<Stablecoin | null> {
    if (this.coinCache !== undefined) return this.coinCache;
    const address = await onChain("read the stablecoin", () =>
      this.read.readContract({
        address: this.subscriptions,
        abi: blockhostSubscriptionsAbi,
        functionName: "getPrimaryStablecoin",
      }),
    );
    if (/^0x0{40}$/.test(address)) return null;
    const [symbol, decimals] = await Promise.all([
      onChain("read the stablecoin symbol", () =>
        this.read.readContract({ address, abi: erc20Abi, functionName: "symbol" }),
      ),
      onChain("read the stablecoin decimals", () =>
        this.read.readContract({ address, abi: erc20Abi, functionName: "decimals" }),
      ),
    ]);
    this.coinCache = { address, symbol, decimals };
    return this.coinCache;
  }

  /** The holder of a credential NFT, or null when the token does not exist. */
  async ownerOf(tokenId: bigint): Promise<Hex | null> {
    try {
      return await this.read.readContract({
        address: this.nft,
        abi: accessCredentialNftAbi,
        functionName: "ownerOf",
        args: [tokenId],
      });
    } catch (e) {
      if (e instanceof BaseError && e.walk((x) => x instanceof ContractFunctionRevertedError)) return null;
      throw chainError(e, "read the NFT owner");
    }
  }

  /** The access NFTs `wallet` holds now (ERC-721 enumerable), at most `max`, oldest first. */
  async tokensOf(wallet: Hex, max = 100): Promise<bigint[]> {
    return await onChain("list the wallet's NFTs", async () => {
      const n = await this.read.readContract({
        address: this.nft,
        abi: accessCredentialNftAbi,
        functionName: "balanceOf",
        args: [wallet],
      });
      const count = Math.min(Number(n), max);
      return await Promise.all(
        Array.from({ length: count }, (_, i) =>
          this.read.readContract({
            address: this.nft,
            abi: accessCredentialNftAbi,
            functionName: "tokenOfOwnerByIndex",
            args: [wallet, BigInt(i)],
          }),
        ),
      );
    });
  }

  async payloadOf(tokenId: bigint): Promise<Hex> {
    return await onChain("read the NFT payload", () =>
      this.read.readContract({
        address: this.nft,
        abi: accessCredentialNftAbi,
        functionName: "getUserEncrypted",
        args: [tokenId],
      }),
    );
  }

  /** Native and stablecoin balances of an address (stable null when there is no stablecoin). */
  async balances(address: Hex): Promise<{ native: bigint; stable: bigint | null }> {
    const coin = await this.stablecoin();
    const [native, stable] = await Promise.all([
      onChain("read a balance", () => this.read.getBalance({ address })),
      coin
        ? onChain("read a token balance", () =>
            this.read.readContract({
              address: coin.address,
              abi: erc20Abi,
              functionName: "balanceOf",
              args: [address],
            }),
          )
        : Promise.resolve(null),
    ]);
    return { native, stable };
  }

  /** The host wallet (contract owner) that signs plan changes; null when serve runs without its key. */
  get signer(): Account | null {
    return this.owner;
  }

  async createPlan(name: string, centsPerDay: bigint): Promise<Hex> {
    const { hash } = await writeAndWait(
      this.access,
      this.requireOwner(),
      {
        address: this.subscriptions,
        abi: blockhostSubscriptionsAbi,
        functionName: "createPlan",
        args: [name, centsPerDay],
      },
      "create a plan",
      this.ledger,
    );
    this.plansCache = null;
    return hash;
  }

  async updatePlan(id: number, name: string, centsPerDay: bigint, active: boolean): Promise<Hex> {
    const { hash } = await writeAndWait(
      this.access,
      this.requireOwner(),
      {
        address: this.subscriptions,
        abi: blockhostSubscriptionsAbi,
        functionName: "updatePlan",
        args: [BigInt(id), name, centsPerDay, active],
      },
      `update plan ${id}`,
      this.ledger,
    );
    this.plansCache = null;
    return hash;
  }

  /** Move the contract's whole balance of `token` to `to` (withdrawFunds, by the host wallet). */
  async withdraw(token: Hex, to: Hex): Promise<Hex> {
    const { hash } = await writeAndWait(
      this.access,
      this.requireOwner(),
      { address: this.subscriptions, abi: blockhostSubscriptionsAbi, functionName: "withdrawFunds", args: [token, to] },
      "withdraw funds",
      this.ledger,
    );
    return hash;
  }

  private requireOwner(): Account {
    if (!this.owner)
      throw new BlockhostError(
        "E_CONFIG_MISSING",
        "the host wallet key (deployer key file) is not readable by blockhost serve",
      );
    return this.owner;
  }
}
