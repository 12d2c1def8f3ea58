// The admin-command block scanner on anvil: one HTTP request (a JSON-RPC batch) per round, and a reorg rewinds and rescans.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Hex } from "viem";
import { connectChain } from "../../../src/chain/client.ts";
import type { Web3Config } from "../../../src/core/config/index.ts";
import { openDatabase } from "../../../src/core/state/db.ts";
import { scanCursor } from "../../../src/core/state/admin-commands.ts";
import { BlockScanner, SCAN_BATCH, batchingClient, type ScanTx } from "../../../src/engine/admin-commands/scanner.ts";
import { anvilAvailable, startAnvil, type Anvil } from "../../helpers/anvil.ts";
import { tempDir } from "../../helpers/binary.ts";
import { devnet, type Devnet } from "../../helpers/contracts.ts";

describe.skipIf(!anvilAvailable())("admin block scanner (anvil)", () => {
  let anvil: Anvil, net: Devnet, dir: string, cleanup: () => void;
  let server: ReturnType<typeof Bun.serve>;
  const counts = { requests: 0 };
  beforeAll(async () => {
    anvil = await startAnvil();
    net = devnet(anvil);
    ({ dir, cleanup } = tempDir("bh-scan-"));
    // A loopback proxy counting HTTP requests to anvil.
    server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(req) {
        counts.requests++;
        return new Response(
          await (
            await fetch(anvil.rpcUrl, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: await req.text(),
            })
          ).text(),
          { headers: { "content-type": "application/json" } },
        );
      },
    });
  });
  afterAll(async () => {
    server?.stop(true);
    await anvil?.stop();
    cleanup?.();
  });

  const head = async () => Number(await anvil.rpc<string>("eth_blockNumber"));
  const tx = async (from: number, data: Hex) => {
    const w = net.wallets[from]!;
    const hash = await w.sendTransaction({
      account: w.account!,
      chain: w.chain,
      to: net.addresses[from]!,
      value: 0n,
      data,
    });
    await net.pub.waitForTransactionReceipt({ hash, pollingInterval: 50 });
    return hash;
  };

  test("catch-up in batches of one request each; a reorg rewinds to the fork and the replacement block is scanned", async () => {
    const web3 = {
      blockchain: { chain_id: anvil.chainId, rpc_url: `http://127.0.0.1:${server.port}` },
      auth: { otp_length: 6, otp_ttl_seconds: 300 },
    } as Web3Config;
    const db = openDatabase(join(dir, "scan.db"));
    const scanner = new BlockScanner(db, batchingClient(web3, connectChain(web3)), {
      chainId: anvil.chainId,
      startBlock: 0,
    });
    const seen: ScanTx[] = [];
    const handle = async (txs: ScanTx[]) => {
      seen.push(...txs);
    };
    await anvil.mine(120);
    const before = await tx(1, "0x11223344556677");
    let top = await head();
    let rounds = 0;
    counts.requests = 0;
    while (await scanner.round(top, handle)) rounds++;
    rounds++;
    expect(rounds).toBe(Math.ceil((top + 1) / SCAN_BATCH));
    expect(counts.requests).toBe(rounds);
    expect(seen.map((t) => t.hash)).toEqual([before]);

    const snap = await anvil.rpc<Hex>("evm_snapshot");
    const dropped = await tx(2, "0xaabbccddeeff00");
    top = await head();
    await scanner.round(top, handle);
    expect(seen.at(-1)!.hash).toBe(dropped);
    // Replace that block with another one holding a different transaction.
    await anvil.rpc("evm_revert", [snap]);
    const replacement = await tx(3, "0x99887766554433");
    expect(await head()).toBe(top);
    counts.requests = 0;
    expect(await scanner.round(top, handle)).toBe(true); // found the reorg, rewound
    expect(scanCursor(db, anvil.chainId)!.number).toBe(top - 1);
    await scanner.round(top, handle);
    expect(seen.at(-1)!.hash).toBe(replacement);
    expect(counts.requests).toBe(3); // round 1: the batch; the rewind: one batch of stored headers; round 2: the batch
    db.close();
  });
});
