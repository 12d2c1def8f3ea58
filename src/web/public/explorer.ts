/** Block explorer base URLs by chain id; none for a devnet or an unknown chain (no link is better than a wrong one). */
const EXPLORERS: Readonly<Record<number, string>> = {
  1: "https://etherscan.io",
  10: "https://optimistic.etherscan.io",
  137: "https://polygonscan.com",
  8453: "https://basescan.org",
  42161: "https://arbiscan.io",
  11155111: "https://sepolia.etherscan.io",
  84532: "https://sepolia.basescan.org",
  80002: "https://amoy.polygonscan.com",
};

export function explorerFor(chainId: number): string | null {
  return EXPLORERS[chainId] ?? null;
}
