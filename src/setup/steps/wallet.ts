/** Step `wallet`: the deployer key (imported from chain.deployer_key_file or generated), which must hold ETH. */
import { existsSync } from "node:fs";
import { formatEther } from "viem";
import { readKeyFile } from "../../crypto/keyfile.ts";
import { onChain } from "../../chain/errors.ts";
import { BlockhostError } from "../../core/errors.ts";
import { paths } from "../../core/paths.ts";
import { addressOfPrivateKey, generatePrivateKey, privateKeyHex } from "../../crypto/keys.ts";
import type { SetupStep } from "./types.ts";

export const wallet: SetupStep = {
  name: "wallet",
  title: "deployer wallet",
  async run(ctx) {
    const source = ctx.file.chain.deployer_key_file;
    const installed = existsSync(paths.deployerKey) ? readKeyFile(paths.deployerKey, "deployer key file") : undefined;
    const wanted = source ? readKeyFile(source, "chain.deployer_key_file") : (installed ?? generatePrivateKey());
    if (!installed || privateKeyHex(installed) !== privateKeyHex(wanted)) {
      await ctx.agent.call("config-write", { file: "deployer.key", content: `${privateKeyHex(wanted)}\n` });
    }
    const address = addressOfPrivateKey(wanted);
    wanted.fill(0);
    installed?.fill(0);
    const balance = await onChain("read the deployer balance", () => ctx.access.publicClient.getBalance({ address }));
    if (balance === 0n) {
      throw new BlockhostError(
        "E_STATE",
        `deployer ${address} has no ETH on chain ${ctx.file.chain.chain_id}: fund it, then run finalize again`,
      );
    }
    return { address, balance_eth: formatEther(balance) };
  },
};
