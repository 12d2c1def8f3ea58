/** A whole engine environment (anvil, contracts, config, agent) for engine tests. */
import { Database } from "bun:sqlite";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bytesToHex, maxUint256, parseEventLogs, parseUnits, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  accessCredentialNftAbi,
  accessCredentialNftBytecode,
} from "../../src/chain/contracts/generated/AccessCredentialNFT.ts";
import {
  blockhostSubscriptionsAbi,
  blockhostSubscriptionsBytecode,
} from "../../src/chain/contracts/generated/BlockhostSubscriptions.ts";
import { openDatabase } from "../../src/core/state/db.ts";
import { eciesEncrypt } from "../../src/crypto/ecies.ts";
import { generatePrivateKey, publicKeyOf } from "../../src/crypto/keys.ts";
import { freePort, startAnvil, type Anvil, type AnvilOptions } from "./anvil.ts";
import { blockhostBinary, REPO, runBlockhost } from "./binary.ts";
import { approve, deploy, deployToken, devnet, read, send, type Devnet } from "./contracts.ts";
import { provisionRoot } from "./provision-root.ts";

/** Index of the anvil dev account that deploys (and so owns) both contracts: the host's wallet. */
export const OWNER = 0;
export const PUBLIC_SECRET = "blockhost-access";

export interface EngineEnvOptions {
  backend?: "dry-run" | "proxmox" | "libvirt";
  /** blockhost.yaml lines for the backend's section (proxmox gets a default one). */
  backendYaml?: string;
  confirmations?: number;
  anvil?: AnvilOptions;
  ipPool?: string;
  ipv6Prefix?: string;
  vmidRange?: { start: number; end: number };
  /** Put an RPC URL nobody answers first, anvil second (exercises the fallback transport). */
  deadRpcFirst?: boolean;
  /** Extra keys for blockhost.yaml's engine section. */
  engine?: Record<string, number | boolean>;
}

/** One row of `blockhost vm list --json` (the seed's vms.json field names), the fields engine tests read. */
export interface VmJson {
  vm_name: string;
  vmid: number;
  status: string;
  subscription_id: number | null;
  ip_address: string;
  ipv6_address: string | null;
  username: string;
  wallet_address: string;
  owner_wallet: string;
  expires_at: string;
  suspended_at: string | null;
  nft_token_id: number | null;
  nft_minted: boolean;
  gecos_synced: boolean;
}

export interface Purchase {
  subscriptionId: number;
  buyer: number;
  signature: Hex;
  block: bigint;
}

/**
 * A host for engine tests: anvil with both contracts (owned by dev account 0), a stablecoin plan,
 * buyers 1..9 funded and approved, and a BLOCKHOST_ROOT whose config points the engine at them.
 */
export class EngineEnv {
  private constructor(
    readonly root: string,
    private readonly cleanupRoot: () => void,
    readonly anvil: Anvil,
    readonly net: Devnet,
    readonly nft: Hex,
    readonly subs: Hex,
    readonly serverKey: Uint8Array,
  ) {}

  static async create(opts: EngineEnvOptions = {}): Promise<EngineEnv> {
    const { root, cleanup } = provisionRoot({
      backend: opts.backend ?? "dry-run",
      ...(opts.ipPool ? { ipPool: opts.ipPool } : {}),
      ...(opts.ipv6Prefix ? { ipv6Prefix: opts.ipv6Prefix } : {}),
      ...(opts.vmidRange ? { vmidRange: opts.vmidRange } : {}),
      extraBlockhostYaml:
        opts.backendYaml ??
        (opts.backend === "proxmox"
          ? "proxmox: {node: pve, storage: local-lvm, bridge: vmbr0, template_vmid: 9001}"
          : ""),
    });
    // A set-up host has its database (finalize creates it); read commands polled before the engine's
    // first start must not find "not set up yet".
    openDatabase(join(root, "var/lib/blockhost/blockhost.db")).close();
    const anvil = await startAnvil(opts.anvil);
    const net = devnet(anvil);
    const stable = await deployToken(
      net,
      "USDC",
      6,
      Array.from({ length: 9 }, (_, i) => [i + 1, parseUnits("1000000", 6)] as [number, bigint]),
    );
    const nft = await deploy(net, OWNER, accessCredentialNftAbi, accessCredentialNftBytecode, [
      "BlockhostAccess",
      "BHA",
    ]);
    const subs = await deploy(net, OWNER, blockhostSubscriptionsAbi, blockhostSubscriptionsBytecode);
    await send(net, OWNER, {
      address: subs,
      abi: blockhostSubscriptionsAbi,
      functionName: "setPrimaryStablecoin",
      args: [stable],
    });
    await send(net, OWNER, {
      address: subs,
      abi: blockhostSubscriptionsAbi,
      functionName: "createPlan",
      args: ["Basic", 100n],
    });
    for (let i = 1; i <= 9; i++) await approve(net, i, stable, subs, maxUint256);

    const etc = join(root, "etc/blockhost");
    const serverKey = generatePrivateKey();
    const keyFile = (name: string, hex: string) => {
      const f = join(etc, name);
      writeFileSync(f, `${hex}\n`, { mode: 0o600 });
      chmodSync(f, 0o600);
      return f;
    };
    const serverKeyFile = keyFile("server.key", bytesToHex(serverKey).slice(2));
    const deployerKeyFile = keyFile("deployer.key", anvil.accounts[OWNER]!.privateKey.slice(2));
    writeFileSync(
      join(etc, "web3-defaults.yaml"),
      [
        "blockchain:",
        `  chain_id: ${anvil.chainId}`,
        ...(opts.deadRpcFirst
          ? [`  rpc_url: http://127.0.0.1:${await freePort()}`, `  rpc_urls: ['${anvil.rpcUrl}']`]
          : [`  rpc_url: ${anvil.rpcUrl}`]),
        `  nft_contract: '${nft}'`,
        `  subscription_contract: '${subs}'`,
        `  confirmations: ${opts.confirmations ?? 0}`,
        `deployer: {private_key_file: ${deployerKeyFile}}`,
        "",
      ].join("\n"),
    );
    const engine = {
      poll_interval_ms: 100,
      reconcile_interval_s: 1,
      retry_base_ms: 200,
      retry_max_ms: 1000,
      ...opts.engine,
    };
    const yaml = (await Bun.file(join(etc, "blockhost.yaml")).text()).replace(
      "server: {key_file: /etc/blockhost/server.key}",
      `server: {key_file: ${serverKeyFile}}`,
    );
    writeFileSync(join(etc, "blockhost.yaml"), `${yaml}engine: ${JSON.stringify(engine)}\n`);
    mkdirSync(join(root, "var/lib/blockhost"), { recursive: true });
    return new EngineEnv(root, cleanup, anvil, net, nft, subs, serverKey);
  }

  /** Point the engine at another RPC URL (e.g. a provider simulator in front of this anvil). */
  setRpcUrl(url: string): void {
    const file = join(this.root, "etc/blockhost/web3-defaults.yaml");
    const text = readFileSync(file, "utf8");
    writeFileSync(file, text.replace(/^ {2}rpc_url: .*$/m, `  rpc_url: ${url}`));
  }

  /** The buyer's wallet signature of the public secret (what the signup page has them sign). */
  async signature(buyer: number): Promise<Hex> {
    return await privateKeyToAccount(this.anvil.accounts[buyer]!.privateKey).signMessage({ message: PUBLIC_SECRET });
  }

  /** ECIES(server public key, signature text): the signup page's `userEncrypted`. */
  async payloadFor(buyer: number): Promise<Hex> {
    return bytesToHex(eciesEncrypt(publicKeyOf(this.serverKey), new TextEncoder().encode(await this.signature(buyer))));
  }

  /** Buyer `buyer` buys plan 1 for `days`, paying with `paymentMethod` (1: the primary stablecoin). */
  async buy(buyer: number, days = 30n, payload?: Hex, paymentMethod = 1n): Promise<Purchase> {
    const receipt = await send(this.net, buyer, {
      address: this.subs,
      abi: blockhostSubscriptionsAbi,
      functionName: "buySubscription",
      args: [1n, days, paymentMethod, payload ?? (await this.payloadFor(buyer))],
    });
    const [ev] = parseEventLogs({
      abi: blockhostSubscriptionsAbi,
      logs: receipt.logs,
      eventName: "SubscriptionCreated",
    });
    return {
      subscriptionId: Number(ev!.args.subscriptionId),
      buyer,
      signature: await this.signature(buyer),
      block: receipt.blockNumber,
    };
  }

  async extend(subscriptionId: number, days: bigint, from = 1): Promise<void> {
    await send(this.net, from, {
      address: this.subs,
      abi: blockhostSubscriptionsAbi,
      functionName: "extendSubscription",
      args: [BigInt(subscriptionId), days, 1n],
    });
  }

  async cancel(subscriptionId: number): Promise<void> {
    await send(this.net, OWNER, {
      address: this.subs,
      abi: blockhostSubscriptionsAbi,
      functionName: "cancelSubscription",
      args: [BigInt(subscriptionId)],
    });
  }

  async subscription(id: number): Promise<{ expiresAt: bigint; cancelled: boolean }> {
    const [, , expiresAt, , cancelled] = await read<[bigint, Hex, bigint, boolean, boolean]>(this.net, {
      address: this.subs,
      abi: blockhostSubscriptionsAbi,
      functionName: "getSubscription",
      args: [BigInt(id)],
    });
    return { expiresAt, cancelled };
  }

  async nftOwner(tokenId: number): Promise<Hex> {
    return await read<Hex>(this.net, {
      address: this.nft,
      abi: accessCredentialNftAbi,
      functionName: "ownerOf",
      args: [BigInt(tokenId)],
    });
  }

  /** Mint the next NFT to dev account `to` with an empty payload (NFT #0 first: the admin credential, as finalize does). */
  async mintTo(to = OWNER): Promise<void> {
    await send(this.net, OWNER, {
      address: this.nft,
      abi: accessCredentialNftAbi,
      functionName: "mint",
      args: [this.anvil.accounts[to]!.address, "0x"],
    });
  }

  /** `transferFrom` of an NFT by its holder, dev account `from`. */
  async transferNft(tokenId: number, from: number, to: number): Promise<void> {
    await send(this.net, from, {
      address: this.nft,
      abi: accessCredentialNftAbi,
      functionName: "transferFrom",
      args: [this.anvil.accounts[from]!.address, this.anvil.accounts[to]!.address, BigInt(tokenId)],
    });
  }

  async nftPayload(tokenId: number): Promise<Hex> {
    return await read<Hex>(this.net, {
      address: this.nft,
      abi: accessCredentialNftAbi,
      functionName: "getUserEncrypted",
      args: [BigInt(tokenId)],
    });
  }

  async nftTotal(): Promise<number> {
    return Number(
      await read<bigint>(this.net, { address: this.nft, abi: accessCredentialNftAbi, functionName: "totalSupply" }),
    );
  }

  /** `blockhost vm list --json` against this root. */
  async vms(): Promise<VmJson[]> {
    return JSON.parse((await runBlockhost(["vm", "list", "--json"], { root: this.root })).stdout) as VmJson[];
  }

  /** The VM of a subscription, as `vm list --json` shows it. */
  async vmOf(subscriptionId: number): Promise<VmJson | undefined> {
    return (await this.vms()).find((v) => v.subscription_id === subscriptionId);
  }

  /** Wait until the VM of a subscription has its NFT (and with `gecos`, the holder in its GECOS); its row. */
  servedVm(subscriptionId: number, what: string, opts: { gecos?: boolean; everyMs?: number } = {}): Promise<VmJson> {
    return eventually(
      async () => {
        const v = await this.vmOf(subscriptionId);
        return v?.nft_minted && (!opts.gecos || v.gecos_synced) ? v : null;
      },
      what,
      opts.everyMs,
    );
  }

  /**
   * Put the database back to "mint of this purchase sent from its block, token id not yet written" (what a
   * crash between sending a mint and recording it leaves) with its provision job queued again.
   */
  rewindMint(p: Purchase): void {
    const db = new Database(join(this.root, "var/lib/blockhost/blockhost.db"));
    try {
      db.query(
        "UPDATE vms SET nft_minted = 0, nft_token_id = NULL, extra = json_object('mint_from_block', ?) WHERE subscription_id = ?",
      ).run(String(p.block), p.subscriptionId);
      db.query("UPDATE jobs SET state = 'queued' WHERE key = ?").run(
        `provision:${this.anvil.chainId}:${p.subscriptionId}`,
      );
    } finally {
      db.close();
    }
  }

  /** Start the compiled `blockhost engine` against this root. */
  startEngine(args: string[] = [], env: Record<string, string> = {}): EngineProcess {
    return new EngineProcess(this.root, args, env);
  }

  async stop(): Promise<void> {
    await this.anvil.stop();
    this.cleanupRoot();
  }
}

/** A running engine; its stderr JSON lines are collected. */
export class EngineProcess {
  readonly proc: ReturnType<typeof Bun.spawn>;
  private stderr = "";
  readonly done: Promise<number>;

  constructor(root: string, args: string[], env: Record<string, string>) {
    // ENGINE_CPU_PROF=<dir>: run the engine from source under Bun's CPU profiler (markdown profile on exit).
    const prof = process.env.ENGINE_CPU_PROF;
    const cmd = prof
      ? [process.execPath, "--cpu-prof-md", `--cpu-prof-dir=${prof}`, `${REPO}/src/main.ts`, "engine", ...args]
      : [blockhostBinary(), "engine", ...args];
    const proc = Bun.spawn(cmd, {
      cwd: "/",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", BLOCKHOST_ROOT: root, ...env },
      stdout: "ignore",
      stderr: "pipe",
    });
    this.proc = proc;
    const reading = (async () => {
      for await (const chunk of proc.stderr) this.stderr += new TextDecoder().decode(chunk);
    })();
    this.done = Promise.all([proc.exited, reading]).then(([code]) => code);
  }

  events(): Array<Record<string, unknown>> {
    return this.stderr
      .split("\n")
      .filter(Boolean)
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  }

  get log(): string {
    return this.stderr;
  }

  /** SIGTERM and wait for a clean exit; returns the exit code. */
  async stop(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<number> {
    this.proc.kill(signal);
    return await this.done;
  }
}

/** Poll `check` until it returns a truthy value (no wall-clock assertion: the test timeout bounds it). */
export async function eventually<T>(
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  what: string,
  everyMs = 100,
): Promise<T> {
  for (let i = 0; ; i++) {
    const v = await check();
    if (v) return v;
    if (i > 0 && i % 300 === 0) console.log(`still waiting for: ${what}`);
    await Bun.sleep(everyMs);
  }
}
