/** Browser helpers shared by the web pages: the EIP-1193 wallet through viem, page data, the live status line. */
import {
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  custom,
  defineChain,
  type EIP1193Provider,
  type Hex,
  type PublicClient,
  type WalletClient,
} from "viem";
import { BlockhostError } from "../../core/errors.ts";

declare global {
  interface Window {
    ethereum?: EIP1193Provider;
  }
}

/** The injected wallet, or an error a person can act on. */
export function injectedProvider(): EIP1193Provider {
  if (!window.ethereum) {
    throw new BlockhostError("E_NOT_FOUND", "No wallet found: install a browser wallet (e.g. MetaMask) and reload.");
  }
  return window.ethereum;
}

/** A viem chain for the host's chain id and public RPC (the wallet does the talking; the RPC is offered when adding it). */
export function chainFor(chainId: number, rpcUrl: string | null, name = `Chain ${chainId}`): Chain {
  return defineChain({
    id: chainId,
    name,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: rpcUrl ? [rpcUrl] : [] } },
  });
}

/** Ask the wallet for an account (prompts the user once). */
export async function connectWallet(): Promise<Address> {
  const accounts = (await injectedProvider().request({ method: "eth_requestAccounts" })) as Address[];
  const account = accounts[0];
  if (!account) throw new BlockhostError("E_AUTH_DENIED", "The wallet returned no account.");
  return account;
}

/** Switch the wallet to the chain, adding it when the wallet does not know it (EIP-3326 error 4902). */
export async function ensureChain(chain: Chain): Promise<void> {
  const provider = injectedProvider();
  const current = Number(await provider.request({ method: "eth_chainId" }));
  if (current === chain.id) return;
  const chainId = `0x${chain.id.toString(16)}` as Hex;
  try {
    await provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId }] });
  } catch (e) {
    if ((e as { code?: number }).code !== 4902) throw e;
    if (chain.rpcUrls.default.http.length === 0)
      throw new BlockhostError(
        "E_NOT_FOUND",
        `Your wallet does not know chain ${chain.id}: add it in the wallet and retry.`,
      );
    await provider.request({
      method: "wallet_addEthereumChain",
      params: [
        {
          chainId,
          chainName: chain.name,
          nativeCurrency: chain.nativeCurrency,
          rpcUrls: [...chain.rpcUrls.default.http],
        },
      ],
    });
  }
}

/** EIP-191 `personal_sign` of a text message by the account. */
export async function signText(account: Address, message: string): Promise<Hex> {
  return walletClient(account).signMessage({ account, message });
}

/** A wallet client that signs and sends through the injected wallet. */
export function walletClient(account: Address, chain?: Chain): WalletClient {
  return createWalletClient({ account, chain, transport: custom(injectedProvider()) });
}

/** Reads through the wallet's own RPC, so the page needs no connect-src beyond its own origin. */
export function publicClient(chain: Chain): PublicClient {
  return createPublicClient({ chain, transport: custom(injectedProvider()) });
}

export { errorText, pageData, setStatus } from "./page-basics.ts";
