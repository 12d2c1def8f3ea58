/**
 * Connection details for the holder of a credential NFT, proven by an EIP-4361 sign-in naming the
 * token (the NFT may carry no details, or details sealed for a previous holder), and a request to
 * re-seal them into the NFT for the holder's own signature of the public secret.
 */
import { Hono } from "hono";
import { isAddressEqual, recoverMessageAddress, type Hex } from "viem";
import { hasCode, oneLine } from "../../../core/errors.ts";
import { logEvent } from "../../../core/log.ts";
import { object, str } from "../../../core/schema.ts";
import { connectionDetails, publicAddress, readPayload } from "../../../engine/payload.ts";
import { vmForToken } from "../../../core/state/vms.ts";
import { clientAddress, holds, signedMessageBody, WalletLogin } from "../../session/index.ts";
import type { ServeDeps } from "../deps.ts";
import { jsonBody } from "../json-body.ts";

const TOKEN_RE = /^\d{1,12}$/;
const sealBody = object({
  payload: str(/^0x[0-9a-fA-F]{2,2000}$/, "the signature ECIES-encrypted to the server key (hex)", 2002),
});

/** The reveal purpose's own nonce store (per token, per client): it cannot crowd the admin's. */
export function revealLogin(deps: ServeDeps): WalletLogin {
  return new WalletLogin({
    purpose: "reveal",
    hostName: deps.hostName,
    chainId: deps.chainId,
    statement: (token) => `Show the connection details of server NFT #${token} to its holder.`,
  });
}

export function credentialsApi(deps: ServeDeps, login: WalletLogin = revealLogin(deps)): Hono {
  const api = new Hono();

  api.get("/:token", async (c) => {
    const token = c.req.param("token");
    if (!TOKEN_RE.test(token)) return c.json({ error: "token id must be a whole number" }, 400);
    try {
      const holder = await deps.chain.ownerOf(BigInt(token));
      if (!holder) return c.json({ error: `NFT #${token} does not exist` }, 404);
      return c.json({ token_id: Number(token), holder, payload: await deps.chain.payloadOf(BigInt(token)) });
    } catch (e) {
      return c.json({ error: oneLine(e) }, 503);
    }
  });

  api.post("/:token/challenge", (c) => {
    const token = c.req.param("token");
    if (!TOKEN_RE.test(token)) return c.json({ error: "token id must be a whole number" }, 400);
    return login.challengeResponse(c, token);
  });

  api.post("/:token/details", async (c) => {
    const token = c.req.param("token");
    if (!TOKEN_RE.test(token)) return c.json({ error: "token id must be a whole number" }, 400);
    const body = await jsonBody(c, signedMessageBody);
    if (!body.ok) return body.response;
    try {
      const signer = await login.verify(body.value, token);
      if (!(await holds((id) => deps.chain.ownerOf(id), BigInt(token), signer))) {
        logEvent("serve.reveal_denied", { token_id: token, signer });
        return c.json({ error: `the signing wallet does not hold NFT #${token}` }, 403);
      }
      const vm = vmForToken(deps.db, Number(token));
      if (!vm) return c.json({ error: `NFT #${token} has no live server on this host` }, 404);
      logEvent("serve.reveal", { token_id: token, vm: vm.vm_name, holder: signer });
      return c.json({
        ...JSON.parse(connectionDetails(publicAddress(vm), vm.username)),
        vm_name: vm.vm_name,
        status: vm.status,
        expires_at: vm.expires_at,
      });
    } catch (e) {
      if (hasCode(e, "E_AUTH_DENIED")) {
        logEvent("serve.reveal_denied", { token_id: token, reason: e.details?.reason, client: clientAddress(c) });
        return c.json({ error: e.message }, 403);
      }
      return c.json({ error: oneLine(e) }, 503);
    }
  });

  api.post("/:token/seal", async (c) => {
    const token = c.req.param("token");
    if (!TOKEN_RE.test(token)) return c.json({ error: "token id must be a whole number" }, 400);
    const body = await jsonBody(c, sealBody);
    if (!body.ok) return body.response;
    const reading = readPayload(deps.serverKey, body.value.payload as Hex);
    if (!reading.signature) return c.json({ error: reading.problem }, 400);
    try {
      const signer = await recoverMessageAddress({ message: deps.publicSecret, signature: reading.signature });
      const holder = await deps.chain.ownerOf(BigInt(token));
      if (!holder || !isAddressEqual(holder, signer))
        return c.json({ error: `the signing wallet does not hold NFT #${token}` }, 403);
      if (!vmForToken(deps.db, Number(token)))
        return c.json({ error: `NFT #${token} has no live server on this host` }, 404);
      deps.queue.enqueue(
        "seal",
        `seal:${token}`,
        { token_id: Number(token), payload: body.value.payload },
        { rerun: true },
      );
      logEvent("serve.seal_requested", { token_id: token, holder });
      return c.json({ queued: true }, 202);
    } catch (e) {
      return c.json({ error: oneLine(e) }, 503);
    }
  });

  return api;
}
