/** Step `keypair`: the server's secp256k1 key (customers encrypt their signature to it). */
import { existsSync } from "node:fs";
import { readKeyFile } from "../../crypto/keyfile.ts";
import { paths } from "../../core/paths.ts";
import { generatePrivateKey, privateKeyHex, publicKeyHex, publicKeyOf } from "../../crypto/keys.ts";
import { writeConfig, type SetupStep } from "./types.ts";

export const keypair: SetupStep = {
  name: "keypair",
  title: "server keypair",
  async run(ctx) {
    const existing = existsSync(paths.serverKey);
    const key = existing ? readKeyFile(paths.serverKey, "server key file") : generatePrivateKey();
    if (!existing) await ctx.agent.call("config-write", { file: "server.key", content: `${privateKeyHex(key)}\n` });
    const publicKey = `0x${publicKeyHex(publicKeyOf(key))}`;
    key.fill(0);
    await writeConfig(ctx, "server.pubkey", `${publicKey}\n`);
    return { public_key: publicKey, generated: !existing };
  },
};
