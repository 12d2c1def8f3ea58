/** The AccessCredentialNFT contract on anvil. */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { parseEventLogs, type Hex } from "viem";
import {
  accessCredentialNftAbi as abi,
  accessCredentialNftBytecode,
} from "../../../src/chain/contracts/generated/AccessCredentialNFT.ts";
import { tokenIdFromReceipt } from "../../../src/chain/mint.ts";
import { anvilAvailable } from "../../helpers/anvil.ts";
import { chainPerTest, deploy, expectRevert, read, send, type Devnet } from "../../helpers/contracts.ts";

// Chain round trips through anvil and the compiled binary: generous, never a timing assertion.
setDefaultTimeout(60_000);

const OWNER = 0,
  ALICE = 1,
  BOB = 2;

describe.skipIf(!anvilAvailable())("AccessCredentialNFT on anvil", () => {
  let net: Devnet;
  let nft: Hex;

  const write = (from: number, functionName: string, args: readonly unknown[]) =>
    send(net, from, { address: nft, abi, functionName, args });
  const view = <T>(functionName: string, args: readonly unknown[] = []) =>
    read<T>(net, { address: nft, abi, functionName, args });
  const mint = (to: number, data: Hex = "0x") => write(OWNER, "mint", [net.addresses[to], data]);

  chainPerTest(async (_chain, chainNet) => {
    net = chainNet;
    nft = await deploy(net, OWNER, abi, accessCredentialNftBytecode, ["BlockhostAccess", "BHA"]);
  });

  test("name, symbol, owner", async () => {
    expect(await view<string>("name")).toBe("BlockhostAccess");
    expect(await view<string>("symbol")).toBe("BHA");
    expect(await view<Hex>("owner")).toBe(net.addresses[OWNER]!);
  });

  test("mint stores the payload, starts at token 0, increments, and emits CredentialMinted", async () => {
    const r0 = await mint(ALICE, "0xc0ffee");
    const [ev] = parseEventLogs({ abi, logs: r0.logs, eventName: "CredentialMinted" });
    expect(ev!.args).toEqual({ tokenId: 0n, recipient: net.addresses[ALICE]! });
    expect(tokenIdFromReceipt(r0, nft)).toBe(0n);
    const r1 = await mint(BOB);
    expect(tokenIdFromReceipt(r1, nft)).toBe(1n);
    expect(await view<Hex>("getUserEncrypted", [0n])).toBe("0xc0ffee");
    expect(await view<Hex>("getUserEncrypted", [1n])).toBe("0x");
    expect(await view<Hex>("ownerOf", [0n])).toBe(net.addresses[ALICE]!);
    expect(await view<bigint>("totalSupply")).toBe(2n);
  });

  test("only the owner mints and updates", async () => {
    await expectRevert(write(ALICE, "mint", [net.addresses[ALICE], "0x"]), "OwnableUnauthorizedAccount", [
      net.addresses[ALICE],
    ]);
    await mint(ALICE);
    await expectRevert(write(ALICE, "updateUserEncrypted", [0n, "0x01"]), "OwnableUnauthorizedAccount", [
      net.addresses[ALICE],
    ]);
  });

  test("getUserEncrypted and updateUserEncrypted refuse a token that does not exist", async () => {
    await expectRevert(view("getUserEncrypted", [0n]), "reason:Token does not exist");
    await expectRevert(write(OWNER, "updateUserEncrypted", [3n, "0x01"]), "reason:Token does not exist");
  });

  test("update replaces the payload and emits CredentialUpdated", async () => {
    await mint(ALICE, "0x01");
    const r = await write(OWNER, "updateUserEncrypted", [0n, "0xabcdef"]);
    expect(parseEventLogs({ abi, logs: r.logs, eventName: "CredentialUpdated" })[0]!.args).toEqual({ tokenId: 0n });
    expect(await view<Hex>("getUserEncrypted", [0n])).toBe("0xabcdef");
  });

  test("transfer moves ownership; balances and enumeration follow", async () => {
    await mint(ALICE);
    await mint(ALICE);
    await mint(BOB);
    expect(await view<bigint>("balanceOf", [net.addresses[ALICE]])).toBe(2n);
    await write(ALICE, "transferFrom", [net.addresses[ALICE], net.addresses[BOB], 0n]);
    expect(await view<Hex>("ownerOf", [0n])).toBe(net.addresses[BOB]!);
    expect(await view<bigint>("balanceOf", [net.addresses[ALICE]])).toBe(1n);
    expect(await view<bigint>("balanceOf", [net.addresses[BOB]])).toBe(2n);
    expect(await view<bigint>("tokenOfOwnerByIndex", [net.addresses[ALICE], 0n])).toBe(1n);
    const bobs = [
      await view<bigint>("tokenOfOwnerByIndex", [net.addresses[BOB], 0n]),
      await view<bigint>("tokenOfOwnerByIndex", [net.addresses[BOB], 1n]),
    ];
    expect(bobs.sort()).toEqual([0n, 2n]);
    expect(await view<bigint>("tokenByIndex", [2n])).toBe(2n);
    expect(await view<bigint>("totalSupply")).toBe(3n);
    await expectRevert(
      write(ALICE, "transferFrom", [net.addresses[ALICE], net.addresses[BOB], 2n]),
      "ERC721InsufficientApproval",
      [net.addresses[ALICE], 2n],
    );
    await expectRevert(view("ownerOf", [7n]), "ERC721NonexistentToken", [7n]);
  });

  test("there is no burn", () => {
    expect(abi.some((e) => e.type === "function" && /burn/i.test(e.name))).toBe(false);
  });

  test("gas: mint with a typical connection-details payload", async () => {
    // AES-GCM of {"hostname":"…","port":22,"username":"admin"}: nonce 12 + ~70 bytes + tag 16.
    const payload = `0x${"cd".repeat(100)}` as Hex;
    const first = await mint(ALICE, payload);
    const next = await mint(BOB, payload);
    console.log(
      `gas mint (${(payload.length - 2) / 2}-byte payload): first=${first.gasUsed} subsequent=${next.gasUsed}`,
    );
    expect(next.gasUsed).toBeGreaterThan(0n);
  });
});
