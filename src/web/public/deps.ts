/** Everything the public web app works with, loaded once from the host's config (tests build their own). */
import { DEFAULT_PUBLIC_SECRET } from "../../core/config/schemas.ts";
import type { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { bytesToHex, type Hex } from "viem";
import { AgentClient } from "../../agent/client.ts";
import { connectChain } from "../../chain/client.ts";
import { contractAddress, loadDeployer } from "../../chain/context.ts";
import { readKeyFile } from "../../crypto/keyfile.ts";
import {
  loadBlockhostConfig,
  loadDbConfig,
  loadHttpsConfig,
  loadWeb3Config,
  type DbConfig,
  type PlanSize,
} from "../../core/config/index.ts";
import { paths } from "../../core/paths.ts";
import { DEV_CHAIN_IDS } from "../../core/config/rpc-url.ts";
import { openDatabase } from "../../core/state/db.ts";
import { publicKeyOf } from "../../crypto/keys.ts";
import { JobQueue } from "../../engine/queue.ts";
import { openProvisioner, type Provisioner } from "../../provision/context.ts";
import { acmeName } from "./certificate.ts";
import { offeredOs, type OsChoice } from "../../provision/os.ts";
import { ServeChain } from "./chain.ts";

const DEFAULT_TITLE = "BlockHost — get your server";
const DEFAULT_ACCENT = "#627EEA";

export interface ServeDeps {
  db: Database;
  chain: ServeChain;
  chainId: number;
  /**
   * The RPC offered to visitors' wallets (blockchain.public_rpc_url; on a dev chain the node itself),
   * or null. Never the operator's rpc_url: it may carry a provider key.
   */
  publicRpcUrl: string | null;
  serverKey: Uint8Array;
  serverPublicKey: Hex;
  publicSecret: string;
  /** The host's public name (the certificate's): every wallet sign-in message must name it. */
  hostName: string;
  /** The credential NFT whose holder is the admin (blockhost.yaml admin.credential_nft_id, default 0). */
  adminTokenId: bigint;
  site: { title: string; accent: string };
  dbConfig: DbConfig | null;
  queue: JobQueue;
  /** The provisioner, opened on first use (admin VM actions). */
  provisioner: () => Provisioner;
  /** Serving over TLS: cookies get Secure, responses HSTS. */
  tls: boolean;
  /** The operating systems customers may choose (blockhost.yaml os:), the default first. */
  offeredOs: OsChoice[];
  /** VM sizes per plan id (blockhost.yaml plans:), shown beside each plan's price. */
  planSizes: Readonly<Record<string, PlanSize>>;
  /** The root agent: addressbook, new wallets and the admin-command table are root's files. */
  agent: AgentClient;
}

/** The name customers reach serve by: the ACME name when there is one, else https.json's hostname. */
function publicHostName(): string {
  if (!existsSync(paths.httpsConfig)) return hostname();
  const https = loadHttpsConfig();
  return https.acme ? acmeName(https) : https.hostname;
}

/** Build ServeDeps from blockhost.yaml, web3-defaults.yaml, db.yaml and https.json under paths.root. */
export function loadServeDeps(opts: { tls: boolean; db?: Database }): ServeDeps {
  const web3 = loadWeb3Config();
  const blockhost = loadBlockhostConfig();
  const db = opts.db ?? openDatabase();
  const access = connectChain(web3, { timeoutMs: 5_000 });
  const serverKey = readKeyFile(blockhost.server.key_file, "server key file");
  let owner = null;
  try {
    owner = loadDeployer(web3);
  } catch {
    owner = null;
  }
  let provisioner: Provisioner | undefined;
  return {
    db,
    chain: new ServeChain(access, contractAddress(web3, "subscriptions"), contractAddress(web3, "nft"), owner, {
      db,
      chainId: web3.blockchain.chain_id,
    }),
    chainId: web3.blockchain.chain_id,
    publicRpcUrl:
      web3.blockchain.public_rpc_url ?? (DEV_CHAIN_IDS.has(web3.blockchain.chain_id) ? web3.blockchain.rpc_url : null),
    serverKey,
    serverPublicKey: bytesToHex(publicKeyOf(serverKey)),
    publicSecret: blockhost.public_secret ?? DEFAULT_PUBLIC_SECRET,
    hostName: publicHostName(),
    adminTokenId: BigInt(blockhost.admin?.credential_nft_id ?? 0),
    site: { title: blockhost.web?.title ?? DEFAULT_TITLE, accent: blockhost.web?.accent_color ?? DEFAULT_ACCENT },
    dbConfig: existsSync(paths.dbConfig) ? loadDbConfig() : null,
    queue: new JobQueue(db, { baseMs: 5_000, maxMs: 600_000 }),
    provisioner: () => (provisioner ??= openProvisioner({ db })),
    offeredOs: offeredOs(blockhost),
    planSizes: blockhost.plans ?? {},
    tls: opts.tls,
    agent: new AgentClient({ timeoutMs: 30_000 }),
  };
}
