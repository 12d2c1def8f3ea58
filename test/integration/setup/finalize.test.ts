/** blockhost finalize on anvil: bad setup files, a failing step, a full run twice, and what is refused after setup. */
import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { privateKeyToAccount } from "viem/accounts";
import { join } from "node:path";
import { parse } from "yaml";
import type { Hex } from "viem";
import { accessCredentialNftAbi } from "../../../src/chain/contracts/generated/AccessCredentialNFT.ts";
import { blockhostSubscriptionsAbi } from "../../../src/chain/contracts/generated/BlockhostSubscriptions.ts";
import { decryptWithSignature, utf8 } from "../../../src/crypto/symmetric.ts";
import { anvilAvailable } from "../../helpers/anvil.ts";
import { runBlockhost } from "../../helpers/binary.ts";
import { devnet } from "../../helpers/contracts.ts";
import { useSetupHost } from "../../helpers/setup-host.ts";

const skip = !anvilAvailable();
if (skip)
  console.warn("skipping finalize tests: anvil (npm @foundry-rs/anvil-linux-amd64) cannot run on this platform");

describe.skipIf(skip)("blockhost finalize on anvil", () => {
  const f = useSetupHost();

  const etc = (name: string) => join(f.host.root, "etc/blockhost", name);

  /** Run finalize on a variant of the setup file; the file is restored afterwards. */
  // biome-ignore lint/suspicious/noExplicitAny: tests bend the setup file into invalid shapes on purpose
  async function withVariant(change: (data: Record<string, any>) => void, after?: () => void) {
    const saved = structuredClone(f.host.data);
    change(f.host.data);
    f.host.write();
    after?.();
    try {
      return await f.host.finalize();
    } finally {
      for (const k of Object.keys(f.host.data)) delete f.host.data[k];
      Object.assign(f.host.data, saved);
      f.host.write();
    }
  }

  test("bad setup files exit 78 naming the file and the key, and change nothing", async () => {
    const loose = await withVariant(
      () => {},
      () => chmodSync(f.host.setupFile, 0o640),
    );
    expect(loose.code).toBe(78);
    expect(loose.stderr).toContain(`${f.host.setupFile}: mode 0640 is too open`);

    const unknown = await withVariant((d) => {
      d.plan.colour = "blue";
    });
    expect(unknown.code).toBe(78);
    expect(unknown.stderr).toContain(`${f.host.setupFile}: plan.colour: unknown key`);

    const chain = await withVariant((d) => {
      d.chain.chain_id = 1;
    });
    expect(chain.code).toBe(78);
    expect(chain.stderr).toContain("chain.chain_id: 1, but");

    const otherWallet = privateKeyToAccount(f.anvil.accounts[7]!.privateKey);
    const foreign = await withVariant(
      (d) => {
        d.admin.signature_file = join(f.host.root, "operator/other.sig");
      },
      () => writeFileSync(join(f.host.root, "operator/other.sig"), `0x${"00".repeat(65)}`),
    );
    expect(foreign.code).toBe(78);
    expect(foreign.stderr).toContain("admin.signature_file");
    const signed = await otherWallet.signMessage({ message: "blockhost-access" });
    const wrong = await withVariant(
      (d) => {
        d.admin.signature_file = join(f.host.root, "operator/other.sig");
      },
      () => writeFileSync(join(f.host.root, "operator/other.sig"), signed),
    );
    expect(wrong.code).toBe(78);
    expect(wrong.stderr).toContain(
      `admin.signature_file: signature of "blockhost-access" recovers to ${otherWallet.address}, not admin.wallet`,
    );

    const price = await withVariant((d) => {
      d.plan.price_cents_per_day = 0;
    });
    expect(price.code).toBe(78);
    expect(price.stderr).toContain("plan.price_cents_per_day: expected an integer from 1");
    expect(existsSync(join(f.host.root, "etc/blockhost/server.key"))).toBe(false);
  }, 60_000);

  test("a failing step stops the run, is recorded with its error, and the next run resumes there", async () => {
    const broken = await withVariant((d) => {
      d.chain.stablecoin = f.host.admin.address;
    });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain("set the primary stablecoin");
    const status = JSON.parse((await f.host.finalize(["status", "--json"])).stdout).steps as Array<{
      step: string;
      status: string;
      error: string | null;
    }>;
    const plan = status.find((s) => s.step === "plan")!;
    expect(plan.status).toBe("failed");
    expect(plan.error).toContain("set the primary stablecoin");
    expect(status.filter((s) => s.status === "done").map((s) => s.step)).toEqual([
      "keypair",
      "wallet",
      "contracts",
      "chain_config",
      "addressbook",
      "backend",
      "ipv6",
      "https",
      "mint_nft",
    ]);
    const human = await f.host.finalize(["status"]);
    expect(human.stdout).toMatch(/failed +plan +stablecoin and plan — .*set the primary stablecoin/);
    expect((await f.host.finalize(["--config", f.host.setupFile, "--retry", "nosuchstep"])).code).toBe(2);
  }, 60_000);

  test("sets the host up; a second run changes nothing and finds the same contracts", async () => {
    const first = await f.host.finalize();
    expect(first.stderr).not.toContain("failed");
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("setup complete");
    const web3 = parse(readFileSync(etc("web3-defaults.yaml"), "utf8"));
    const nft = web3.blockchain.nft_contract as Hex;
    const subs = web3.blockchain.subscription_contract as Hex;
    expect(nft).toMatch(/^0x[0-9a-fA-F]{40}$/);

    const second = await f.host.finalize();
    expect(second.code).toBe(0);
    const again = parse(readFileSync(etc("web3-defaults.yaml"), "utf8"));
    expect(again.blockchain.nft_contract).toBe(nft);
    expect(again.blockchain.subscription_contract).toBe(subs);

    const { pub } = devnet(f.anvil);
    expect(await pub.readContract({ address: nft, abi: accessCredentialNftAbi, functionName: "totalSupply" })).toBe(1n);
    expect(
      await pub.readContract({ address: nft, abi: accessCredentialNftAbi, functionName: "ownerOf", args: [0n] }),
    ).toBe(f.host.admin.address);
    const sealed = await pub.readContract({
      address: nft,
      abi: accessCredentialNftAbi,
      functionName: "getUserEncrypted",
      args: [0n],
    });
    expect(JSON.parse(utf8(decryptWithSignature(f.host.signature, sealed)))).toEqual({
      hostname: "127.0.0.1",
      port: 22,
      username: "admin",
    });
    expect(
      await pub.readContract({ address: subs, abi: blockhostSubscriptionsAbi, functionName: "getTotalPlanCount" }),
    ).toBe(1n);
    expect(
      await pub.readContract({ address: subs, abi: blockhostSubscriptionsAbi, functionName: "getPrimaryStablecoin" }),
    ).toBe(f.stablecoin);

    const blockhost = parse(readFileSync(etc("blockhost.yaml"), "utf8"));
    expect(blockhost.plans).toEqual({ 1: { cpu: 1, memory_mb: 2048, disk_gb: 20 } });
    expect(blockhost.admin.wallet_address).toBe(f.host.admin.address);
    const https = JSON.parse(readFileSync(etc("https.json"), "utf8"));
    expect(https).toEqual({
      hostname: "127.0.0.1",
      cert_file: etc("tls/cert.pem"),
      key_file: etc("tls/key.pem"),
      self_signed: true,
    });
    expect(statSync(etc("tls/key.pem")).mode & 0o007).toBe(0);
    expect(existsSync(join(f.host.root, "var/lib/blockhost-agent/setup-complete"))).toBe(true);

    const status = await f.host.finalize(["status", "--json"]);
    const steps = JSON.parse(status.stdout).steps as Array<{
      step: string;
      status: string;
      result: Record<string, unknown>;
    }>;
    expect(steps.map((s) => s.status)).toEqual(Array(12).fill("done"));
    expect(steps.find((s) => s.step === "complete")!.result.services_note).toContain("not /");
  }, 60_000);

  test("after setup: reset is refused, the wizard does not start, the agent refuses setup-only writes", async () => {
    const reset = await f.host.finalize(["--reset"]);
    expect(reset.code).toBe(1);
    expect(reset.stderr).toContain("setup is complete");
    const wizard = await runBlockhost(["wizard", "--port", "0"], { root: f.host.root });
    expect(wizard.code).toBe(1);
    expect(wizard.stderr).toContain("the wizard no longer runs");
    const r = await f.host.agent.client
      .callUnchecked("config-write", { file: "network-mode", content: "none\n" })
      .catch((e: unknown) => e);
    expect((r as { code: string }).code).toBe("E_SETUP_COMPLETE");
  });
});
