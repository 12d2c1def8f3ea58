/** The GECOS field the in-VM login reads the owner from: `wallet=<address>[,nft=<id>]`. */

const GECOS_WALLET_RE = /^wallet=(0x[0-9a-fA-F]{40})(?:,nft=(\d{1,20}))?$/;

/** What cloud-init and the engine's ownership updates write. */
export function gecosFor(wallet: string, nftTokenId: number | null): string {
  return nftTokenId === null ? `wallet=${wallet}` : `wallet=${wallet},nft=${nftTokenId}`;
}

/** The wallet (and token id) in a GECOS field, or null when it holds none. */
export function parseGecos(gecos: string): { wallet: `0x${string}`; nft?: string } | null {
  const m = GECOS_WALLET_RE.exec(gecos);
  if (!m) return null;
  return { wallet: m[1] as `0x${string}`, ...(m[2] ? { nft: m[2] } : {}) };
}
