/**
 * Connection details for the holder of a credential NFT, proven by a wallet signature over a
 * one-time code (the NFT may carry no details, or details sealed for a previous holder), and a
 * request to re-seal them into the NFT for the holder's own signature of the public secret.
 */
import { Hono } from "hono";
import { isAddressEqual, recoverMessageAddress, type Hex } from "viem";
import { oneLine } from "../../../core/errors.ts";
import { logEvent } from "../../../core/log.ts";
import { object, str } from "../../../core/schema.ts";
import { connectionDetails, publicAddress, readPayload } from "../../../engine/payload.ts";
import { vmForToken } from "../../../core/state/vms.ts";
import type { OneTimeCodes } from "../challenges.ts";
import type { ServeDeps } from "../deps.ts";
import { jsonBody } from "../json-body.ts";

const TOKEN_RE = /^\d{1,12}$/;
const signature = str(/^0x[0-9a-fA-F]{130}$/, "a 65-byte hex signature (0x + 130 hex digits)", 132);
const detailsBody = object({ code: str(/^[A-Z0-9]{8}$/, "the 8-character code from /challenge", 8), signature });
const sealBody = object({
  payload: str(/^0x[0-9a-fA-F]{2,2000}$/, "the signature ECIES-encrypted to the server key (hex)", 2002),
});

export const revealMessage = (host: string, tokenId: string, code: string) =>
  `Show the connection details of server NFT #${tokenId} on ${host} with code: ${code}`;

export function credentialsApi(deps: ServeDeps, codes: OneTimeCodes): Hono {
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
    const { code, expiresAt } = codes.issue("reveal", token);
    return c.json({
      code,
      message: revealMessage(deps.hostName, token, code),
      expires_at: new Date(expiresAt).toISOString(),
    });
  });

  api.post("/:token/details", async (c) => {
    const token = c.req.param("token");
    if (!TOKEN_RE.test(token)) return c.json({ error: "token id must be a whole number" }, 400);
    const body = await jsonBody(c, detailsBody);
    if (!body.ok) return body.response;
    if (!codes.take(body.value.code, "reveal", token))
      return c.json({ error: "the code is unknown, used or expired; ask for a new one" }, 403);
    try {
      const signer = await recoverMessageAddress({
        message: revealMessage(deps.hostName, token, body.value.code),
        signature: body.value.signature as Hex,
      });
      const holder = await deps.chain.ownerOf(BigInt(token));
      if (!holder || !isAddressEqual(holder, signer)) {
        logEvent("serve.reveal_denied", { token_id: token, signer });
        return c.json({ error: `the signing wallet does not hold NFT #${token}` }, 403);
      }
      const vm = vmForToken(deps.db, Number(token));
      if (!vm) return c.json({ error: `NFT #${token} has no live server on this host` }, 404);
      logEvent("serve.reveal", { token_id: token, vm: vm.vm_name, holder });
      return c.json({
        ...JSON.parse(connectionDetails(publicAddress(vm), vm.username)),
        vm_name: vm.vm_name,
        status: vm.status,
        expires_at: vm.expires_at,
      });
    } catch (e) {
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
