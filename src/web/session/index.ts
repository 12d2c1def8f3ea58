/**
 * Wallet sign-in for every web surface (admin panel, credential reveal, customer panel):
 *
 * - `WalletLogin` per purpose: `challenge(c, subject)` hands out EIP-4361 fields with a server nonce
 *   (per-purpose store, bounded, per-client quota, expiry); `verify(body, subject)` accepts the signed
 *   message once, only when it is exactly what was issued, and returns the wallet.
 * - `WalletSessions` per surface: `start(c, wallet)` sets a signed `__Host-` cookie; `require()` and
 *   `csrf()` guard routes; the session names the wallet, never what it holds.
 * - `holds(ownerOf, tokenId, wallet)`: what a wallet holds is read from the chain when an action runs.
 */
export { addressKey, clientAddress, clientKey } from "./client.ts";
export { csrfGuard } from "./csrf.ts";
export { NonceStore, type PendingNonce } from "./nonces.ts";
export {
  holds,
  type SignedMessage,
  type SiweChallenge,
  signedMessageBody,
  WalletLogin,
  type WalletLoginOptions,
} from "./siwe.ts";
export { type WalletEnv, type WalletSession, WalletSessions, type WalletSessionsOptions } from "./wallet-sessions.ts";
