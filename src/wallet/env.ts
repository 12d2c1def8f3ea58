/** What wallet commands work with: chain, roles from the addressbook, tokens. */
import { erc20Abi, getAddress, type Hex } from "viem";
import type { PrivateKeyAccount } from "viem/accounts";
import { loadAddressbook, type Addressbook } from "../core/config/addressbook.ts";
import type { Web3Config } from "../core/config/index.ts";
import { BlockhostError } from "../core/errors.ts";
import { paths } from "../core/paths.ts";
import { addressArg } from "../core/address.ts";
import { EVM_ADDRESS_RE } from "../core/validators.ts";
import type { ChainAccess } from "../chain/client.ts";
import { contractAddress, loadChainContext, loadDeployer } from "../chain/context.ts";
import { blockhostSubscriptionsAbi } from "../chain/contracts/generated/BlockhostSubscriptions.ts";
import { onChain } from "../chain/errors.ts";
import { loadKeyFile } from "../crypto/keyfile.ts";

/** `eth` or an ERC20 token address. */
export type Token = "eth" | Hex;

const NATIVE = new Set(["eth", "native"]);
const STABLE = new Set(["stable", "stablecoin", "usdc"]);

/**
 * What `blockhost wallet` commands share: the chain from web3-defaults.yaml, the addressbook
 * (loaded on first use), the subscriptions contract (required only by commands that use it).
 */
export class WalletEnv {
  private book?: Addressbook;

  constructor(
    readonly web3: Web3Config,
    readonly access: ChainAccess,
  ) {}

  static load(): WalletEnv {
    const { web3, access } = loadChainContext();
    return new WalletEnv(web3, access);
  }

  get addressbook(): Addressbook {
    this.book ??= loadAddressbook();
    if (Object.keys(this.book).length === 0)
      throw new BlockhostError(
        "E_CONFIG_MISSING",
        `${paths.addressbook}: the addressbook is empty (create it with: blockhost addressbook init …)`,
      );
    return this.book;
  }

  get subscriptions(): Hex {
    return contractAddress(this.web3, "subscriptions");
  }

  /** A role that holds a key file, loaded as a signing account. */
  signer(role: string): PrivateKeyAccount {
    const entry = this.entry(role);
    if (!entry.keyfile)
      throw new BlockhostError(
        "E_USAGE",
        `"${role}" has no key file in the addressbook; it cannot sign (roles with keys: ${this.rolesWithKeys().join(", ") || "none"})`,
      );
    return loadKeyFile(entry.keyfile, `key file of "${role}"`);
  }

  /** The contract owner: the addressbook's `server` role, else the deployer key named in web3-defaults.yaml. */
  server(): PrivateKeyAccount {
    const book = loadAddressbook();
    return book.server?.keyfile ? this.signer("server") : loadDeployer(this.web3);
  }

  /** A role name or a 0x address. */
  target(arg: string): Hex {
    if (EVM_ADDRESS_RE.test(arg)) return addressArg(arg, "address");
    return getAddress(this.entry(arg).address);
  }

  /** `eth`/`native`, `stable`/`stablecoin`/`usdc` (the contract's primary stablecoin) or a 0x token address. */
  async token(arg: string): Promise<Token> {
    const lower = arg.toLowerCase();
    if (NATIVE.has(lower)) return "eth";
    if (EVM_ADDRESS_RE.test(arg)) return addressArg(arg, "token address");
    if (STABLE.has(lower)) {
      const stable = await onChain("getPrimaryStablecoin", () =>
        this.access.publicClient.readContract({
          address: this.subscriptions,
          abi: blockhostSubscriptionsAbi,
          functionName: "getPrimaryStablecoin",
        }),
      );
      if (/^0x0{40}$/.test(stable))
        throw new BlockhostError(
          "E_NOT_FOUND",
          `the subscriptions contract has no primary stablecoin (set one with: blockhost wallet config stable 0x…)`,
        );
      return stable;
    }
    throw new BlockhostError(
      "E_USAGE",
      `unknown token "${arg.slice(0, 50)}" (expected eth, stable or a 0x token address)`,
    );
  }

  /** Decimals and symbol of a token; contracts without them (e.g. an NFT) count in whole units. */
  async tokenInfo(token: Token): Promise<{ decimals: number; symbol: string }> {
    if (token === "eth") return { decimals: 18, symbol: "ETH" };
    const read = <T>(functionName: "decimals" | "symbol") =>
      this.access.publicClient.readContract({ address: token, abi: erc20Abi, functionName }) as Promise<T>;
    const [decimals, symbol] = await Promise.all([
      read<number>("decimals").catch(() => 0),
      read<string>("symbol").catch(() => token),
    ]);
    return { decimals, symbol: /^[\x20-\x7e]{1,32}$/.test(symbol) ? symbol : token };
  }

  async balance(token: Token, who: Hex): Promise<bigint> {
    return await onChain(`balance of ${who}`, () =>
      token === "eth"
        ? this.access.publicClient.getBalance({ address: who })
        : this.access.publicClient.readContract({
            address: token,
            abi: erc20Abi,
            functionName: "balanceOf",
            args: [who],
          }),
    );
  }

  private entry(role: string) {
    const book = this.addressbook;
    const entry = Object.hasOwn(book, role) ? book[role] : undefined;
    if (!entry)
      throw new BlockhostError(
        "E_USAGE",
        `unknown role "${role.slice(0, 64)}" (addressbook has: ${Object.keys(book).join(", ")})`,
      );
    return entry;
  }

  private rolesWithKeys(): string[] {
    return Object.entries(this.addressbook)
      .filter(([, e]) => e.keyfile)
      .map(([n]) => n);
  }
}
