/** Start and drive a local anvil devnet. */
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import type { Subprocess } from "bun";
import { bytesToHex, type Hex } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { BlockhostError } from "../core/errors.ts";
import { diesWithParent } from "../core/process.ts";

const ANVIL_PACKAGE_PATH = "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil";

/**
 * The anvil executable for devnets: $BLOCKHOST_ANVIL, else the npm package next to the source
 * tree, the working directory or the binary (dist/../node_modules), else `anvil` on PATH.
 */
export function findAnvil(): string {
  if (process.env.BLOCKHOST_ANVIL) return process.env.BLOCKHOST_ANVIL;
  const candidates = [
    join(import.meta.dir, "../..", ANVIL_PACKAGE_PATH),
    join(process.cwd(), ANVIL_PACKAGE_PATH),
    join(dirname(process.execPath), "..", ANVIL_PACKAGE_PATH),
  ];
  return candidates.find((c) => existsSync(c)) ?? Bun.which("anvil") ?? candidates[0]!;
}

export const ANVIL_BIN = findAnvil();
/** anvil's default dev mnemonic: its accounts are public knowledge and hold test ETH only. */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";
export const ANVIL_CHAIN_ID = 31337;

/** A free TCP port on 127.0.0.1 (the kernel picks it; anvil binds it right after). */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() =>
        typeof addr === "object" && addr
          ? resolve(addr.port)
          : reject(new BlockhostError("E_IO", "no free port on 127.0.0.1")),
      );
    });
  });
}

export interface DevAccount {
  address: Hex;
  privateKey: Hex;
}

/** The first `n` funded dev accounts of anvil's default mnemonic. */
export function devAccounts(n = 10): DevAccount[] {
  return Array.from({ length: n }, (_, i) => {
    const account = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: i });
    return { address: account.address, privateKey: bytesToHex(account.getHdKey().privateKey!) };
  });
}

export interface AnvilOptions {
  /** Persist chain state here on stop (and load it on start): anvil --state. */
  statePath?: string;
  chainId?: number;
  /** Extra anvil flags (never secrets). */
  args?: string[];
}

/** One anvil devnet on 127.0.0.1. Start with `startAnvil()`, always `stop()` it (afterAll). */
export class Anvil {
  readonly accounts = devAccounts();
  private proc?: Subprocess;
  private output = "";

  private constructor(
    readonly port: number,
    private readonly opts: AnvilOptions,
  ) {}

  /** The node's process id (its CPU time is a benchmark's baseline). */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get rpcUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  get chainId(): number {
    return this.opts.chainId ?? ANVIL_CHAIN_ID;
  }

  static async start(opts: AnvilOptions = {}): Promise<Anvil> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      const anvil = new Anvil(await freePort(), opts);
      try {
        await anvil.launch();
        return anvil;
      } catch (e) {
        lastError = e;
        await anvil.stop();
      }
    }
    throw lastError;
  }

  private async launch(): Promise<void> {
    const args = [
      ANVIL_BIN,
      "--host",
      "127.0.0.1",
      "--port",
      String(this.port),
      "--chain-id",
      String(this.chainId),
      "--accounts",
      "10",
    ];
    if (this.opts.statePath) args.push("--state", this.opts.statePath);
    args.push(...(this.opts.args ?? []));
    this.output = "";
    const proc = Bun.spawn(diesWithParent(args), { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    this.proc = proc;
    void this.drain(proc.stdout);
    void this.drain(proc.stderr);
    // Readiness = the RPC answers; give up when the process dies or after ~30 s of polling.
    for (let i = 0; i < 300; i++) {
      if (proc.exitCode !== null)
        throw new BlockhostError("E_COMMAND_FAILED", `anvil exited (${proc.exitCode}): ${this.output.slice(-500)}`);
      try {
        await this.rpc("eth_chainId");
        return;
      } catch {
        await Bun.sleep(100);
      }
    }
    throw new BlockhostError("E_TIMEOUT", `anvil did not answer on ${this.rpcUrl}: ${this.output.slice(-500)}`);
  }

  private async drain(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) this.output = (this.output + decoder.decode(chunk)).slice(-20_000);
  }

  /** A raw JSON-RPC call; throws on an RPC error. */
  async rpc<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    const res = await fetch(this.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    const body = (await res.json()) as { result?: T; error?: { message: string } };
    if (body.error) throw new BlockhostError("E_CHAIN", `${method}: ${body.error.message}`);
    return body.result as T;
  }

  /** Move chain time forward and mine a block so `block.timestamp` reflects it. */
  async increaseTime(seconds: number): Promise<void> {
    await this.rpc("evm_increaseTime", [seconds]);
    await this.mine();
  }

  async mine(blocks = 1): Promise<void> {
    await this.rpc("anvil_mine", [`0x${blocks.toString(16)}`]);
  }

  async snapshot(): Promise<Hex> {
    return await this.rpc<Hex>("evm_snapshot");
  }

  /** Revert to a snapshot (a snapshot id is single-use in anvil; take a new one after). */
  async revert(id: Hex): Promise<void> {
    const ok = await this.rpc<boolean>("evm_revert", [id]);
    if (!ok) throw new BlockhostError("E_CHAIN", `evm_revert ${id} failed`);
  }

  async blockTimestamp(): Promise<bigint> {
    const block = await this.rpc<{ timestamp: Hex }>("eth_getBlockByNumber", ["latest", false]);
    return BigInt(block.timestamp);
  }

  /** Stop anvil (SIGTERM, so --state is dumped), waiting for it to exit. */
  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (!proc || proc.exitCode !== null) return;
    proc.kill("SIGTERM");
    await proc.exited;
  }

  /** Stop and start again on the same port; with `statePath` the chain state survives. */
  async restart(): Promise<void> {
    await this.stop();
    if (this.opts.statePath && !existsSync(this.opts.statePath))
      throw new BlockhostError("E_IO", `anvil did not dump state to ${this.opts.statePath}`);
    await this.launch();
  }

  /** The last lines anvil printed (for failure messages). */
  get log(): string {
    return this.output;
  }
}

export const startAnvil = (opts?: AnvilOptions) => Anvil.start(opts);

/** Whether anvil can run here (the npm package ships only linux-x64). */
export const anvilAvailable = (): boolean =>
  existsSync(ANVIL_BIN) && process.platform === "linux" && process.arch === "x64";
