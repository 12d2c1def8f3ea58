/**
 * Sign-In with Ethereum (EIP-4361) for one purpose: the server hands out the fields (domain, uri,
 * chain id, nonce, issued-at, expiry, statement), the wallet signs the message built from them with
 * its address, and the server accepts it once, only if every field is exactly what it issued.
 */
import type { Context } from "hono";
import { type Address, getAddress, type Hex, isAddressEqual, verifyMessage } from "viem";
import { parseSiweMessage } from "viem/siwe";
import { BlockhostError } from "../../core/errors.ts";
import { object, str } from "../../core/schema.ts";
import { clientKey } from "./client.ts";
import { NonceStore } from "./nonces.ts";

/** What the browser needs to build the message (`createSiweMessage({ ...challenge, address })`). */
export interface SiweChallenge {
  domain: string;
  uri: string;
  chainId: number;
  nonce: string;
  /** ISO 8601. */
  issuedAt: string;
  /** ISO 8601. */
  expirationTime: string;
  statement: string;
  version: "1";
}

export interface WalletLoginOptions {
  /** A word for logs and errors: admin, reveal, panel. */
  purpose: string;
  /** The host's public name (https.json hostname); the message's domain must be it (with the port served on). */
  hostName: string;
  chainId: number;
  /** The sentence the wallet shows, per subject (e.g. the token id); checked verbatim. */
  statement: (subject: string) => string;
  /** How long a nonce may wait for its signature (default 5 minutes). */
  ttlMs?: number;
  /** Pending nonces at most (default 2,000). */
  maxPending?: number;
  /** Pending nonces at most per client (IPv4 address or IPv6 /64; default 4). */
  perClient?: number;
  now?: () => number;
}

/** The JSON body a signed sign-in is posted as. */
export const signedMessageBody = object({
  message: str(/^[\x20-\x7e\n]{1,2000}$/, "the EIP-4361 message that was signed", 2000),
  signature: str(/^0x[0-9a-fA-F]{130}$/, "a 65-byte hex signature (0x + 130 hex digits)", 132),
});
export interface SignedMessage {
  message: string;
  signature: string;
}

const denied = (reason: string, text: string) => new BlockhostError("E_AUTH_DENIED", text, { reason });

const bareHost = (h: string) => h.toLowerCase().replace(/^\[(.*)\]$/, "$1");

export class WalletLogin {
  private readonly nonces: NonceStore;
  private readonly now: () => number;

  constructor(private readonly opts: WalletLoginOptions) {
    this.now = opts.now ?? Date.now;
    this.nonces = new NonceStore({
      ttlMs: opts.ttlMs ?? 300_000,
      maxPending: opts.maxPending ?? 2_000,
      perClient: opts.perClient ?? 4,
      now: this.now,
    });
  }

  get purpose(): string {
    return this.opts.purpose;
  }

  /** Pending nonces (for tests). */
  get pending(): number {
    return this.nonces.size;
  }

  /**
   * The authority the message must name: the configured host name, with the port this request came
   * to. A name other than the configured one is never offered, so a wallet on a look-alike site warns.
   */
  domainFor(c: Context): string {
    const url = new URL(c.req.url);
    const host = bareHost(this.opts.hostName);
    const name = host.includes(":") ? `[${host}]` : host;
    return url.port && url.port !== "443" ? `${name}:${url.port}` : name;
  }

  /** The HTTP answer to a challenge request: the fields as JSON, or 429 when too many sign-ins are pending. */
  challengeResponse(c: Context, subject = ""): Response {
    const challenge = this.challenge(c, subject);
    if (!challenge) return c.json({ error: "too many sign-ins are pending; try again in a few minutes" }, 429);
    return c.json(challenge);
  }

  /** Fields for a new sign-in about `subject`, or null when too many sign-ins are pending (answer 429). */
  challenge(c: Context, subject = ""): SiweChallenge | null {
    const domain = this.domainFor(c);
    const p = this.nonces.issue(clientKey(c), subject, domain);
    if (!p) return null;
    return {
      domain,
      uri: `https://${domain}`,
      chainId: this.opts.chainId,
      nonce: p.nonce,
      issuedAt: new Date(p.issuedAt).toISOString(),
      expirationTime: new Date(p.expiresAt).toISOString(),
      statement: this.opts.statement(subject),
      version: "1",
    };
  }

  /**
   * The wallet that signed `body` for `subject`. The nonce is used up by this call whatever the
   * outcome; anything not exactly as issued (domain, uri, chain, statement, times), an expired or
   * reused nonce, or a signature by another key is refused with E_AUTH_DENIED (details.reason).
   */
  async verify(body: SignedMessage, subject = ""): Promise<Address> {
    const m = parseSiweMessage(body.message);
    if (!m.nonce || !m.address || !m.domain) throw denied("malformed", "the message is not an EIP-4361 sign-in");
    const p = this.nonces.take(m.nonce);
    if (!p) throw denied("nonce", "the sign-in is unknown, used or expired; start again");
    if (p.subject !== subject) throw denied("subject", `the sign-in was issued for something else`);
    const uri = `https://${p.domain}`;
    if (m.domain !== p.domain || m.uri !== uri)
      throw denied("domain", `the message names ${m.domain}, not ${p.domain}`);
    if (m.chainId !== this.opts.chainId)
      throw denied("chain", `the message is for chain ${m.chainId}, not ${this.opts.chainId}`);
    if (m.version !== "1" || m.statement !== this.opts.statement(subject))
      throw denied("statement", "the message's statement is not the one issued");
    if (m.issuedAt?.getTime() !== p.issuedAt || m.expirationTime?.getTime() !== p.expiresAt || m.notBefore)
      throw denied("time", "the message's times are not the ones issued");
    if (this.now() >= p.expiresAt) throw denied("expired", "the sign-in expired; start again");
    const address = getAddress(m.address);
    const ok = await verifyMessage({ address, message: body.message, signature: body.signature as Hex }).catch(
      () => false,
    );
    if (!ok) throw denied("signature", "the signature is not by the address in the message");
    return address;
  }
}

/** True when `wallet` holds `tokenId` now (ownership is read at action time, never remembered). */
export async function holds(
  ownerOf: (tokenId: bigint) => Promise<Hex | null>,
  tokenId: bigint,
  wallet: string,
): Promise<boolean> {
  const holder = await ownerOf(tokenId);
  return holder !== null && isAddressEqual(holder, wallet as Hex);
}
