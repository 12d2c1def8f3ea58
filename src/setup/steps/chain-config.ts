/** Step `chain_config`: web3-defaults.yaml, blockhost.yaml and db.yaml in the seed's formats. */
import { renderBlockhostYaml, renderDbYaml, renderWeb3Defaults } from "../render.ts";
import { writeConfig, type SetupStep } from "./types.ts";

export const chainConfig: SetupStep = {
  name: "chain_config",
  title: "configuration files",
  async run(ctx) {
    const written: string[] = [];
    if (await writeConfig(ctx, "web3-defaults.yaml", renderWeb3Defaults(ctx))) written.push("web3-defaults.yaml");
    if (await writeConfig(ctx, "blockhost.yaml", renderBlockhostYaml(ctx))) written.push("blockhost.yaml");
    if (await writeConfig(ctx, "db.yaml", renderDbYaml(ctx))) written.push("db.yaml");
    return { written };
  },
};
