/**
 * Where the host may talk to its chain in clear. Admin rights (`ownerOf`) and purchases are read over
 * this connection, so anyone who can tamper with it could make any wallet admin: an RPC URL must be
 * https:// or wss:// — except on a local development chain (anvil/hardhat chain ids) or to a loopback
 * address, where no network path exists to tamper with.
 */
import { isIP } from "node:net";
import { schemaError, type Schema, str } from "../schema.ts";

/** Chain ids of local development nodes (anvil, hardhat, ganache): nothing of value, often on a test LAN. */
export const DEV_CHAIN_IDS: ReadonlySet<number> = new Set([31337, 1337]);

export const SECURE_RPC =
  "an https:// or wss:// URL (plain http/ws only to a loopback address or on a dev chain 31337/1337)";

function loopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost") return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  return h === "::1";
}

/** True when `url` may carry this chain's traffic. */
export function rpcUrlAllowed(url: string, chainId: number): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol === "https:" || u.protocol === "wss:") return true;
  if (u.protocol !== "http:" && u.protocol !== "ws:") return false;
  return DEV_CHAIN_IDS.has(chainId) || loopback(u.hostname);
}

/**
 * Wrap an object schema that has `chain_id` and `rpc_url` (and optionally `rpc_urls`): a plain-text
 * URL off a dev chain is refused at its own key (`<path>.rpc_url` / `<path>.rpc_urls[i]`).
 */
export function secureRpc<T extends { chain_id: number; rpc_url: string; rpc_urls?: string[] | undefined }>(
  inner: Schema<T>,
): Schema<T> {
  return {
    describe: inner.describe,
    parse(v, path = "") {
      const parsed = inner.parse(v, path);
      const at = (key: string) => (path ? `${path}.${key}` : key);
      if (!rpcUrlAllowed(parsed.rpc_url, parsed.chain_id)) throw schemaError(at("rpc_url"), SECURE_RPC);
      parsed.rpc_urls?.forEach((u, i) => {
        if (!rpcUrlAllowed(u, parsed.chain_id)) throw schemaError(at(`rpc_urls[${i}]`), SECURE_RPC);
      });
      return parsed;
    },
  };
}

/** The RPC URL handed to every visitor's wallet: https only, and no user:password part. */
export const publicRpcUrl = str(
  /^https:\/\/[A-Za-z0-9.\-_:[\]%]+(\/[A-Za-z0-9._~\-/%?=&+]*)?$/,
  "an https:// URL without credentials",
  2048,
);
