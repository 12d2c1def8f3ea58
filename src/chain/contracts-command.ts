/** `blockhost contracts`: deploy the contracts (the original's deploy script). */
import { defineCommand } from "citty";
import { BlockhostError } from "../core/errors.ts";
import { logEvent } from "../core/log.ts";
import { printJson } from "../core/output.ts";
import { loadChainContext, loadDeployer } from "./context.ts";
import { deployAll, type ContractKind } from "./deploy.ts";

/** Accepted names for the one-contract form; `pos` is the original's name for the subscriptions contract. */
const KINDS: Record<string, ContractKind> = { nft: "nft", subscriptions: "subscriptions", pos: "subscriptions" };

const deploy = defineCommand({
  meta: {
    name: "deploy",
    description:
      "Deploy the NFT contract, the subscription contract or both with the server wallet; prints one address per line",
    examples: ["blockhost contracts deploy", "blockhost contracts deploy nft"],
  },
  args: {
    which: {
      type: "positional",
      required: false,
      valueHint: "CONTRACT",
      description: "nft or subscriptions (default: both, the NFT contract first)",
    },
    json: { type: "boolean", description: "Print JSON: the address and transaction of each contract deployed" },
  },
  async run({ args }) {
    const kinds: ContractKind[] =
      args.which === undefined ? ["nft", "subscriptions"] : [KINDS[args.which] ?? badKind(args.which)];
    const { web3, access } = loadChainContext();
    const deployer = loadDeployer(web3);
    const deployed = await deployAll(access, deployer, kinds);
    for (const d of deployed) {
      logEvent("contract_deployed", {
        contract: d.kind,
        address: d.address,
        tx: d.hash,
        gas_used: d.gasUsed.toString(),
        owner: deployer.address,
      });
      if (!args.json) process.stdout.write(`${d.address}\n`);
    }
    if (args.json) printJson(Object.fromEntries(deployed.map((d) => [d.kind, { address: d.address, tx: d.hash }])));
  },
});

function badKind(which: string): never {
  throw new BlockhostError("E_USAGE", `unknown contract "${which}" (expected nft or subscriptions)`);
}

export default defineCommand({
  meta: {
    name: "contracts",
    description: "Deploy BlockHost's two smart contracts (the finalize step does it on a new host)",
    examples: ["blockhost contracts deploy"],
  },
  subCommands: { deploy },
});
