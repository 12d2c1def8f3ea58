// A transfer recorded but never broadcast (crash between the two) is sent once on the next run; one whose nonce was reused is dropped.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { keccak256, parseEther } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { connectChain } from "../../../src/chain/client.ts";
import type { Web3Config } from "../../../src/core/config/index.ts";
import { openDatabase } from "../../../src/core/state/db.ts";
import { pendingTransfers, recentTransfers, recordTransfer } from "../../../src/core/state/funds.ts";
import { settlePending } from "../../../src/engine/funds/ledger-tx.ts";
import { anvilAvailable, startAnvil, type Anvil } from "../../helpers/anvil.ts";
import { tempDir } from "../../helpers/binary.ts";

describe.skipIf(!anvilAvailable())("settling transfers a crashed run left behind (anvil)", () => {
  let anvil: Anvil, dir: string, cleanup: () => void;
  beforeAll(async () => {
    anvil = await startAnvil();
    ({ dir, cleanup } = tempDir("bh-settle-"));
  });
  afterAll(async () => {
    await anvil?.stop();
    cleanup?.();
  });

  test("recorded, never broadcast: broadcast once, done; settled rows are not touched again", async () => {
    const web3 = {
      blockchain: { chain_id: anvil.chainId, rpc_url: anvil.rpcUrl },
      auth: { otp_length: 6, otp_ttl_seconds: 300 },
    } as Web3Config;
    const access = connectChain(web3);
    const db = openDatabase(join(dir, "a.db"));
    const from = privateKeyToAccount(anvil.accounts[8]!.privateKey);
    const to = privateKeyToAccount(`0x${"77".repeat(32)}`).address;
    const sign = async (nonce: number, value: bigint) => {
      const raw = await from.signTransaction({
        chainId: anvil.chainId,
        type: "eip1559",
        to,
        value,
        nonce,
        gas: 21_000n,
        maxFeePerGas: 10n ** 10n,
        maxPriorityFeePerGas: 10n ** 9n,
      });
      return { raw, hash: keccak256(raw) };
    };
    const nonce = await access.publicClient.getTransactionCount({ address: from.address });
    const lost = await sign(nonce, parseEther("1"));
    recordTransfer(db, {
      cycle: "c1",
      step: "remainder",
      token: "eth",
      from_address: from.address,
      to_address: to,
      amount: String(parseEther("1")),
      nonce,
      tx_hash: lost.hash,
      raw_tx: lost.raw,
    });
    expect(pendingTransfers(db)).toHaveLength(1);
    await settlePending(db, access);
    expect(await access.publicClient.getBalance({ address: to })).toBe(parseEther("1"));
    expect(recentTransfers(db).map((r) => r.state)).toEqual(["done"]);
    await settlePending(db, access);
    expect(await access.publicClient.getBalance({ address: to })).toBe(parseEther("1"));

    // Recorded with nonce N, but another transaction took N first: it can never land → dropped, not resent.
    const n2 = nonce + 1;
    const stale = await sign(n2, parseEther("2"));
    recordTransfer(db, {
      cycle: "c2",
      step: "remainder",
      token: "eth",
      from_address: from.address,
      to_address: to,
      amount: String(parseEther("2")),
      nonce: n2,
      tx_hash: stale.hash,
      raw_tx: stale.raw,
    });
    const other = await sign(n2, parseEther("0.5"));
    await access.publicClient.waitForTransactionReceipt({
      hash: await access.publicClient.sendRawTransaction({ serializedTransaction: other.raw }),
    });
    await settlePending(db, access);
    expect(recentTransfers(db).map((r) => r.state)).toEqual(["dropped", "done"]);
    expect(await access.publicClient.getBalance({ address: to })).toBe(parseEther("1.5"));
    db.close();
  });
});
