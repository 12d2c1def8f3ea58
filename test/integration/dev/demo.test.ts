/** `blockhost dev`: the whole stack on one machine. */
import { expect, test } from "bun:test";
import { existsSync, rmSync } from "node:fs";
import { anvilAvailable } from "../../helpers/anvil.ts";
import { runBlockhost } from "../../helpers/binary.ts";

const skip = !anvilAvailable();
if (skip) console.log("skipping blockhost dev: anvil from @foundry-rs/anvil-linux-amd64 cannot run on this platform");

test.skipIf(skip)(
  "blockhost dev --once: a paid subscription becomes a VM and an NFT the customer can decrypt",
  async () => {
    const r = await runBlockhost(["dev", "--once", "--backend", "dry-run"], { cwd: process.cwd() });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const decrypted = r.stdout.match(/decrypted with the customer's signature: (\{.*\})/);
    expect(decrypted).not.toBeNull();
    const details = JSON.parse(decrypted![1]!) as { hostname: string; port: number; username: string };
    expect(details).toEqual({ hostname: "192.168.122.200", port: 22, username: "admin" });
    // NFT #0 is the admin's (minted by finalize); the customer's comes next.
    expect(r.stdout).toMatch(/minted +access NFT #1 to the customer/);
    expect(r.stdout).toMatch(/^blockhost-001 +active +100 +192\.168\.122\.200 /m);
    expect(r.stdout).toMatch(/holds 1000 test USDC and buys 30 days of plan 1 \(\$30\.00 at \$1\.00\/day\)/);
    expect(r.stdout).toContain("vms:      0 creating, 1 active");
    expect(r.stdout).toMatch(/^signup +https:\/\/127\.0\.0\.1:\d+\/ /m);
    expect(r.stdout).toMatch(/^admin +https:\/\/127\.0\.0\.1:\d+\/admin /m);
    expect(r.stdout).toMatch(/^rpc +http:\/\/127\.0\.0\.1:\d+ +chain id 31337/m);
    // Without --keep the temp root is gone afterwards.
    const root = r.stdout.match(/^root +(\S+)$/m)![1]!;
    expect(existsSync(root)).toBe(false);
  },
  180_000,
);

test.skipIf(skip)(
  "blockhost dev --once --keep says where the kept root is, and it is there",
  async () => {
    const r = await runBlockhost(["dev", "--once", "--keep", "--backend", "dry-run"], { cwd: process.cwd() });
    expect(r.code).toBe(0);
    const root = r.stdout.match(/^root +(\S+)$/m)![1]!;
    try {
      expect(r.stdout).toContain(`kept      ${root} (config, database, logs: BLOCKHOST_ROOT=${root} blockhost status;`);
      expect(existsSync(`${root}/var/lib/blockhost/blockhost.db`)).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  },
  180_000,
);
