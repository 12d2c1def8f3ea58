/** The finalization steps, in the order they run. */
import { addressbook } from "./addressbook.ts";
import { backend } from "./backend.ts";
import { chainConfig } from "./chain-config.ts";
import { complete } from "./complete.ts";
import { contracts } from "./contracts.ts";
import { https } from "./https.ts";
import { ipv6 } from "./ipv6.ts";
import { keypair } from "./keypair.ts";
import { mintNft } from "./mint-nft.ts";
import { plan } from "./plan.ts";
import { template } from "./template.ts";
import type { SetupStep } from "./types.ts";
import { wallet } from "./wallet.ts";

export const STEPS: readonly SetupStep[] = [
  keypair,
  wallet,
  contracts,
  chainConfig,
  addressbook,
  backend,
  ipv6,
  https,
  mintNft,
  plan,
  template,
  complete,
];

export const STEP_NAMES: readonly string[] = STEPS.map((s) => s.name);
