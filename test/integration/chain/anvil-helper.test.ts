/** The anvil test helper itself. */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { parseEther } from "viem";
import { anvilAvailable, startAnvil, type Anvil } from "../../helpers/anvil.ts";
import { tempDir } from "../../helpers/binary.ts";
import { devnet } from "../../helpers/contracts.ts";

setDefaultTimeout(60_000);

describe.skipIf(!anvilAvailable())("test helper: anvil", () => {
  const tmp = tempDir("blockhost-anvil-");
  let anvil: Anvil | undefined;
  afterAll(async () => {
    await anvil?.stop();
    tmp.cleanup();
  });

  test("time travel, snapshot/revert, and a restart that keeps the chain state", async () => {
    anvil = await startAnvil({ statePath: join(tmp.dir, "state.json") });
    expect(anvil.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const net = devnet(anvil);
    const [from, to] = [net.wallets[0]!, anvil.accounts[4]!.address];

    const t0 = await anvil.blockTimestamp();
    await anvil.increaseTime(86_400);
    expect((await anvil.blockTimestamp()) - t0).toBeGreaterThanOrEqual(86_400n);

    const snap = await anvil.snapshot();
    const before = await net.pub.getBalance({ address: to });
    await net.pub.waitForTransactionReceipt({
      hash: await from.sendTransaction({ to, value: parseEther("1"), account: from.account!, chain: from.chain }),
    });
    expect(await net.pub.getBalance({ address: to })).toBe(before + parseEther("1"));
    await anvil.revert(snap);
    expect(await net.pub.getBalance({ address: to })).toBe(before);

    await net.pub.waitForTransactionReceipt({
      hash: await from.sendTransaction({ to, value: parseEther("2"), account: from.account!, chain: from.chain }),
    });
    const height = await net.pub.getBlockNumber();
    const port = anvil.port;
    await anvil.restart();
    expect(anvil.port).toBe(port);
    expect(await net.pub.getBalance({ address: to })).toBe(before + parseEther("2"));
    expect(await net.pub.getBlockNumber()).toBe(height);
  });
});
