/**
 * The .deb on a real Debian 12 system (systemd as PID 1 in systemd-nspawn): install, socket activation, wizard,
 * headless finalize against an anvil only the guest's veth link reaches, a purchase served, upgrade, remove, purge,
 * and an install over the original BlockHost's package with its files imported.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { linkSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type Hex, parseUnits } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { parse as parseYaml, stringify } from "yaml";
import { connectChain } from "../../../src/chain/client.ts";
import type { Web3Config } from "../../../src/core/config/index.ts";
import { parsePublicKey } from "../../../src/crypto/keys.ts";
import { buyAsCustomer, customerCredential } from "../../../src/dev/customer.ts";
import { CUSTOMER_ACCOUNT, DEV_PUBLIC_SECRET, type DevHost, HOST_ACCOUNT } from "../../../src/dev/host.ts";
import { devSetupFile } from "../../../src/dev/setup-file.ts";
import { Anvil } from "../../helpers/anvil.ts";
import { peerFingerprint } from "../../helpers/tls-peer.ts";
import { REPO } from "../../helpers/binary.ts";
import { deployToken, devnet } from "../../helpers/contracts.ts";
import { ORIGINAL_ETC, ORIGINAL_VMS, WALLET_A } from "../../fixtures/original-host.ts";
import { buildOriginalCommon, DEB_VERSION, ensureDeb, repackAsVersion } from "../../helpers/deb.ts";
import { Guest, guestRootfs, nspawnUnavailable } from "../../helpers/nspawn.ts";

const unavailable = nspawnUnavailable();
if (unavailable) console.log(`skipping the package install test: ${unavailable}`);

const UPGRADE_VERSION = `${DEB_VERSION}+upgrade1`;
const PKG_DIR = join(REPO, "dist/install-test");
const OPERATOR = "/var/lib/blockhost/operator";
const MINUTE = 60_000;
// apt unpacking or removing two 110 MB executables takes seconds here, minutes on a slow machine.
setDefaultTimeout(5 * MINUTE);
const timings: Record<string, number> = {};

/** blockhost-common's conffiles (the rest of the original's /etc/blockhost is written after it is installed). */
const CONFFILES = ["db.yaml", "web3-defaults.yaml"] as const;

describe.skipIf(unavailable !== undefined)("apt install ./blockhost_<version>_amd64.deb on Debian 12", () => {
  let guest: Guest;
  let anvil: Anvil;
  let host: DevHost;
  const started = performance.now();

  const sh = (script: string, user?: string) => guest.mustExec(["sh", "-c", script], { user });
  const active = (unit: string) => guest.exec(["systemctl", "is-active", unit]).stdout.trim();
  const journal = (unit: string) =>
    guest.exec(["journalctl", "-u", unit, "-n", "15", "--no-pager", "-o", "cat"]).stdout;
  const waitFor = async (what: string, check: () => boolean | Promise<boolean>, ms = MINUTE) => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (await check()) return;
      await Bun.sleep(500);
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  const waitActive = (unit: string) =>
    waitFor(unit, () => active(unit) === "active").catch((e) => {
      throw new Error(`${(e as Error).message}; its journal:\n${journal(unit)}`);
    });

  beforeAll(async () => {
    rmSync(PKG_DIR, { recursive: true, force: true });
    mkdirSync(PKG_DIR, { recursive: true });
    let t = performance.now();
    const deb = ensureDeb();
    linkSync(deb, join(PKG_DIR, `blockhost_${DEB_VERSION}_amd64.deb`));
    repackAsVersion(deb, UPGRADE_VERSION, PKG_DIR);
    buildOriginalCommon(PKG_DIR, Object.fromEntries(CONFFILES.map((f) => [f, ORIGINAL_ETC[f]])));
    timings.package_ms = performance.now() - t;
    t = performance.now();
    const rootfs = guestRootfs((line) => console.log(line));
    timings.rootfs_ms = performance.now() - t;
    t = performance.now();
    guest = await Guest.boot(rootfs, { [PKG_DIR]: "/mnt/pkg" });
    timings.boot_ms = performance.now() - t;
    // Reachable from the guest only over its veth link (the host end's address), and from the test on loopback.
    anvil = await Anvil.start({ args: ["--host", guest.hostAddress] });
  }, 20 * MINUTE);

  afterAll(async () => {
    await guest?.shutdown();
    await anvil?.stop();
    rmSync(PKG_DIR, { recursive: true, force: true });
    const round = (_: string, v: unknown) => (typeof v === "number" ? Math.round(v) : v);
    console.log(
      `install test timings: ${JSON.stringify({ ...timings, total_ms: performance.now() - started }, round)}`,
    );
  });

  test("apt installs the package offline, with the user, group, directories and agent socket", () => {
    const t = performance.now();
    const out = guest.mustExec(["apt-get", "install", "-y", `./blockhost_${DEB_VERSION}_amd64.deb`], {
      cwd: "/mnt/pkg",
    });
    timings.install_ms = performance.now() - t;
    expect(out).toContain("Setting up blockhost");
    expect(guest.mustExec(["dpkg-query", "-W", "-f", `\${Status} \${Version}`, "blockhost"])).toBe(
      `install ok installed ${DEB_VERSION}`,
    );
    expect(guest.mustExec(["getent", "group", "blockhost"])).toMatch(/^blockhost:x:\d+:/);
    const [, , uid, gid, , home, shell] = guest.mustExec(["getent", "passwd", "blockhost"]).trim().split(":");
    expect(Number(uid)).toBeLessThan(1000);
    expect(gid).toBe(guest.mustExec(["getent", "group", "blockhost"]).split(":")[2]);
    expect([home, shell]).toEqual(["/var/lib/blockhost", "/usr/sbin/nologin"]);
    expect(sh("stat -c '%a %U %G %n' /etc/blockhost /var/lib/blockhost /run/blockhost").trim().split("\n")).toEqual([
      "750 root blockhost /etc/blockhost",
      "750 blockhost blockhost /var/lib/blockhost",
      "755 root blockhost /run/blockhost",
    ]);
    expect(sh("stat -c '%F %a %U %G' /run/blockhost/root-agent.sock").trim()).toBe("socket 660 root blockhost");
    expect(guest.mustExec(["blockhost", "--version"]).trim()).toBe(`blockhost ${DEB_VERSION}`);
    expect(sh("man -w blockhost-agent 2>/dev/null || ls /usr/share/man/man1/blockhost-agent.1.gz").trim()).toContain(
      "blockhost-agent.1",
    );
  });

  test("the agent socket-activates for the blockhost user", () => {
    expect(active("blockhost-agent.socket")).toBe("active");
    expect(active("blockhost-agent.service")).toBe("inactive");
    const reply = guest.mustExec(["blockhost", "agent", "call", "ping"], { user: "blockhost" });
    expect(JSON.parse(reply)).toEqual({ ok: true, output: "pong" });
    expect(active("blockhost-agent.service")).toBe("active");
    // A user outside the group is refused by the socket's mode before the agent sees it.
    const stranger = guest.exec(["blockhost", "agent", "call", "ping"], { user: "nobody" });
    expect(stranger.code).not.toBe(0);
  });

  test("the wizard answers over HTTPS on 443; the console shows its URL, certificate fingerprint and code; the journal has no code", async () => {
    await waitActive("blockhost-wizard.service");
    const insecure = { tls: { rejectUnauthorized: false }, redirect: "manual" } as const;
    let status = 0;
    await waitFor("the wizard on port 443", async () => {
      status = await fetch(`https://${guest.guestAddress}/`, insecure).then(
        (r) => r.status,
        () => 0,
      );
      return status !== 0;
    }).catch((e) => {
      throw new Error(`${e.message}\n${sh("systemctl status blockhost-wizard.service --no-pager -l 2>&1 | tail -25")}`);
    });
    expect(status).toBe(303);
    const login = await fetch(`https://${guest.guestAddress}/login`, insecure);
    expect(login.status).toBe(200);
    expect(await login.text()).toContain("<form");
    // Nothing answers in clear any more.
    expect(
      await fetch(`http://${guest.guestAddress}/`, { redirect: "manual" }).then(
        () => "answered",
        () => "refused",
      ),
    ).toBe("refused");
    const CODE_LINE = /^Code: ([A-Z2-9]{6})$/m;
    await waitFor("the code on the console", () => CODE_LINE.test(guest.consoleText));
    const stored = JSON.parse(sh("cat /var/lib/blockhost/wizard-otp.json")) as { code: string };
    expect(CODE_LINE.exec(guest.consoleText)?.[1]).toBe(stored.code);
    expect(guest.consoleText).toContain(`URL: https://${guest.guestAddress}/`);
    const printed = /^Certificate SHA-256: ([0-9A-F:]{95})$/m.exec(guest.consoleText)?.[1];
    expect(printed).toBe(await peerFingerprint(guest.guestAddress, 443));
    const journal = () => sh("journalctl -u blockhost-wizard.service -o cat --no-pager");
    await waitFor("the wizard's log line in the journal", () => journal().includes("wizard.listening"));
    expect(journal()).not.toContain(stored.code);
  });

  test(
    "finalize --config against the test's anvil completes; engine, serve and the gc timer run; the wizard is gone",
    async () => {
      const net = devnet(anvil);
      const stablecoin = await deployToken(net, "USDC", 6, [[CUSTOMER_ACCOUNT, parseUnits("1000", 6)]]);
      const admin = privateKeyToAccount(anvil.accounts[HOST_ACCOUNT]!.privateKey);
      sh(`install -d -m 0700 -o blockhost -g blockhost ${OPERATOR}`);
      const file = (name: string) => `${OPERATOR}/${name}`;
      const deployerKey = anvil.accounts[HOST_ACCOUNT]!.privateKey.slice(2);
      guest.writeFile(file("deployer.key"), `${deployerKey}\n`, "0600", "blockhost:blockhost");
      const signature = await admin.signMessage({ message: DEV_PUBLIC_SECRET });
      guest.writeFile(file("admin.sig"), `${signature}\n`, "0600", "blockhost:blockhost");
      const setup = devSetupFile({
        rpcUrl: `http://${guest.hostAddress}:${anvil.port}`,
        chainId: anvil.chainId,
        adminWallet: admin.address,
        signatureFile: file("admin.sig"),
        deployerKeyFile: file("deployer.key"),
        stablecoin,
        hostname: guest.guestAddress,
      });
      guest.writeFile(file("setup.yaml"), stringify(setup), "0600", "blockhost:blockhost");
      const t = performance.now();
      const out = guest.mustExec(["blockhost", "finalize", "--config", file("setup.yaml")], { user: "blockhost" });
      timings.finalize_ms = performance.now() - t;
      expect(out).toContain("setup complete");
      expect(sh("test -f /var/lib/blockhost-agent/setup-complete && echo yes").trim()).toBe("yes");

      await waitFor("the wizard to stop", () => active("blockhost-wizard.service") === "inactive");
      await waitActive("blockhost-engine.service");
      expect(active("blockhost-gc.timer")).toBe("active");
      for (const unit of ["blockhost-engine.service", "blockhost-serve.service", "blockhost-gc.timer"]) {
        expect(guest.exec(["systemctl", "is-enabled", unit]).stdout.trim()).toBe("enabled");
      }
      const web3 = parseYaml(sh("cat /etc/blockhost/web3-defaults.yaml")) as Web3Config;
      host = {
        access: connectChain({
          blockchain: { chain_id: anvil.chainId, rpc_url: anvil.rpcUrl },
          auth: { otp_length: 6, otp_ttl_seconds: 300 },
        }),
        nft: web3.blockchain.nft_contract as Hex,
        subscriptions: web3.blockchain.subscription_contract as Hex,
        stablecoin,
        serverPublicKey: parsePublicKey(sh("cat /etc/blockhost/server.pubkey").trim(), "server.pubkey"),
        customer: privateKeyToAccount(anvil.accounts[CUSTOMER_ACCOUNT]!.privateKey),
        setupFile: file("setup.yaml"),
      };
    },
    10 * MINUTE,
  );

  test(
    "serve runs and answers on 443 with the certificate finalize made",
    async () => {
      await waitActive("blockhost-serve.service");
      await Bun.sleep(5000);
      if (active("blockhost-serve.service") !== "active")
        throw new Error(`serve does not stay up:\n${journal("blockhost-serve.service")}`);
      let status = 0;
      await waitFor("serve on 443", async () => {
        status = await fetch(`https://${guest.guestAddress}/`, { tls: { rejectUnauthorized: false } }).then(
          (r) => r.status,
          () => 0,
        );
        return status === 200;
      });
      expect(status).toBe(200);
    },
    3 * MINUTE,
  );

  test(
    "a purchase on anvil is served: the engine in the guest provisions (dry-run) and mints the access NFT",
    async () => {
      const purchase = await buyAsCustomer(host, host.customer, 30n);
      let credential: Awaited<ReturnType<typeof customerCredential>>;
      await waitFor(
        "the access NFT",
        async () => {
          credential = await customerCredential(host, host.customer, purchase.signature);
          return credential !== undefined;
        },
        3 * MINUTE,
      );
      type Vm = Record<string, unknown>;
      const list = () =>
        JSON.parse(guest.mustExec(["blockhost", "vm", "list", "--json"], { user: "blockhost" })) as Vm[];
      // The engine records the token once the mint's receipt is in: a moment after the chain shows it.
      let vms: Vm[] = [];
      await waitFor("the VM record to carry its token", () => {
        vms = list();
        return vms[0]?.nft_token_id !== null && vms[0]?.nft_token_id !== undefined;
      });
      expect(vms).toHaveLength(1);
      expect(vms[0]!.subscription_id).toBe(Number(purchase.subscriptionId));
      expect(vms[0]!.nft_token_id).toBe(Number(credential!.tokenId));
      expect(credential!.details).toBeObject();
    },
    5 * MINUTE,
  );

  test(
    "an upgrade to a newer build keeps the VM table and restarts the services",
    async () => {
      const before = guest.mustExec(["blockhost", "vm", "list", "--json"], { user: "blockhost" });
      const mainPid = () =>
        guest.mustExec(["systemctl", "show", "-p", "MainPID", "--value", "blockhost-engine.service"]).trim();
      const enginePid = mainPid();
      guest.mustExec(["apt-get", "install", "-y", `./blockhost_${UPGRADE_VERSION}_amd64.deb`], { cwd: "/mnt/pkg" });
      expect(guest.mustExec(["dpkg-query", "-W", "-f", `\${Version}`, "blockhost"])).toBe(UPGRADE_VERSION);
      await waitActive("blockhost-engine.service");
      expect(mainPid()).not.toBe(enginePid);
      expect(active("blockhost-serve.service")).toBe("active");
      expect(guest.mustExec(["blockhost", "vm", "list", "--json"], { user: "blockhost" })).toBe(before);
      expect(active("blockhost-wizard.service")).toBe("inactive");
    },
    5 * MINUTE,
  );

  test("apt remove stops the services and keeps the configuration, the database and the account", () => {
    guest.mustExec(["apt-get", "remove", "-y", "blockhost"]);
    expect(guest.mustExec(["dpkg-query", "-W", "-f", `\${Status}`, "blockhost"])).toBe("deinstall ok config-files");
    const running = guest.mustExec([
      "systemctl",
      "list-units",
      "--state=active",
      "--plain",
      "--no-legend",
      "blockhost*",
    ]);
    expect(running.trim()).toBe("");
    const kept = ["/etc/blockhost/web3-defaults.yaml", "/etc/blockhost/https.json", "/var/lib/blockhost/blockhost.db"];
    expect(
      sh(`for f in ${kept.join(" ")}; do test -s "$f" && echo "$f"; done`)
        .trim()
        .split("\n"),
    ).toEqual(kept);
    expect(guest.exec(["getent", "passwd", "blockhost"]).code).toBe(0);
  });

  test("apt purge leaves no unit, user, group or file behind", () => {
    guest.mustExec(["apt-get", "purge", "-y", "blockhost"]);
    expectNothingLeft();
  });

  test("over the original's blockhost-common, apt replaces it and `blockhost import` takes over its files", () => {
    guest.mustExec(["apt-get", "install", "-y", "./blockhost-common_0.9.0_all.deb"], { cwd: "/mnt/pkg" });
    // What the original's finalization left beside its package's conffiles.
    guest.writeFile("/etc/blockhost/blockhost.yaml", ORIGINAL_ETC["blockhost.yaml"], "0640", "root:blockhost");
    guest.writeFile("/var/lib/blockhost/vms.json", JSON.stringify(ORIGINAL_VMS), "0640", "blockhost:blockhost");
    const t = performance.now();
    const out = guest.mustExec(["apt-get", "install", "-y", `./blockhost_${DEB_VERSION}_amd64.deb`], {
      cwd: "/mnt/pkg",
    });
    timings.install_over_original_ms = performance.now() - t;
    expect(out).toMatch(/REMOVED:\s+blockhost-common/);
    expect(guest.mustExec(["dpkg-query", "-W", "-f", `\${Status}`, "blockhost-common"])).toBe(
      "deinstall ok config-files",
    );
    expect(sh("cat /etc/blockhost/db.yaml")).toBe(ORIGINAL_ETC["db.yaml"]);
    const imported = guest.mustExec(["blockhost", "import"], { user: "blockhost" });
    expect(imported).toContain("imported 2 VM(s)");
    expect(imported).toContain("linked NFTs from reserved_nft_tokens: 0→blockhost-100");
    const vms = JSON.parse(guest.mustExec(["blockhost", "vm", "list", "--json"], { user: "blockhost" }));
    expect(vms.map((v: { vm_name: string }) => v.vm_name)).toEqual(["blockhost-100", "blockhost-101"]);
    expect(vms[0]).toMatchObject({ nft_token_id: 0, nft_minted: true, owner_wallet: WALLET_A });
    expect(vms[1]).toMatchObject({ status: "suspended", nft_token_id: null, nft_minted: false });
  });

  test("apt purge of both packages leaves nothing behind", () => {
    guest.mustExec(["apt-get", "purge", "-y", "blockhost"]);
    guest.mustExec(["dpkg", "--purge", "blockhost-common"]);
    expect(guest.exec(["dpkg-query", "-W", "blockhost-common"]).code).not.toBe(0);
    expectNothingLeft();
  });

  function expectNothingLeft(): void {
    expect(guest.exec(["dpkg-query", "-W", "-f", `\${Status}`, "blockhost"]).stdout).not.toContain("installed");
    expect(guest.exec(["getent", "passwd", "blockhost"]).code).toBe(2);
    expect(guest.exec(["getent", "group", "blockhost"]).code).toBe(2);
    const units = guest.mustExec(["systemctl", "list-units", "--all", "--plain", "--no-legend", "blockhost*"]).trim();
    expect(units).toBe("");
    const left = sh("find / -xdev \\( -path /proc -o -path /mnt/pkg \\) -prune -o -name '*blockhost*' -print").trim();
    expect(left).toBe("");
    expect(sh("ls -A /run | grep -c blockhost || true").trim()).toBe("0");
  }
});
