/**
 * The .deb on a real Debian 12 system (systemd as PID 1 in systemd-nspawn): install, socket activation, an original
 * host's files imported, upgrade, purge.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { linkSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "../../helpers/binary.ts";
import { DEB_VERSION, ensureDeb, repackAsVersion } from "../../helpers/deb.ts";
import { Guest, guestRootfs, nspawnUnavailable } from "../../helpers/nspawn.ts";

const unavailable = nspawnUnavailable();
if (unavailable) console.log(`skipping the package install test: ${unavailable}`);

const UPGRADE_VERSION = `${DEB_VERSION}+upgrade1`;
const PKG_DIR = join(REPO, "dist/install-test");
const MINUTE = 60_000;
const timings: Record<string, number> = {};

describe.skipIf(unavailable !== undefined)("apt install ./blockhost_<version>_amd64.deb on Debian 12", () => {
  let guest: Guest;
  const started = performance.now();

  const sh = (script: string, user?: string) => guest.mustExec(["sh", "-c", script], { user });
  const active = (unit: string) => guest.exec(["systemctl", "is-active", unit]).stdout.trim();

  beforeAll(async () => {
    rmSync(PKG_DIR, { recursive: true, force: true });
    mkdirSync(PKG_DIR, { recursive: true });
    let t = performance.now();
    const deb = ensureDeb();
    linkSync(deb, join(PKG_DIR, `blockhost_${DEB_VERSION}_amd64.deb`));
    repackAsVersion(deb, UPGRADE_VERSION, PKG_DIR);
    timings.package_ms = performance.now() - t;
    t = performance.now();
    const rootfs = guestRootfs((line) => console.log(line));
    timings.rootfs_ms = performance.now() - t;
    t = performance.now();
    guest = await Guest.boot(rootfs, { [PKG_DIR]: "/mnt/pkg" });
    timings.boot_ms = performance.now() - t;
  }, 20 * MINUTE);

  afterAll(async () => {
    await guest?.shutdown();
    rmSync(PKG_DIR, { recursive: true, force: true });
    console.log(
      `install test timings: ${JSON.stringify({ ...timings, total_ms: performance.now() - started }, (_, v) => (typeof v === "number" ? Math.round(v) : v))}`,
    );
  });

  test("apt installs the package offline, with the user, group, directories and agent socket", () => {
    const out = guest.mustExec(["apt-get", "install", "-y", `./blockhost_${DEB_VERSION}_amd64.deb`], {
      cwd: "/mnt/pkg",
    });
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

  test("an original host's files are imported, and an upgrade to a newer build keeps the VM table", () => {
    // What the original's packages and finalization left behind (its conffiles survive the Conflicts/Replaces removal).
    guest.writeFile(
      "/etc/blockhost/db.yaml",
      [
        "db_file: /var/lib/blockhost/vms.json",
        "vmid_range: {start: 100, end: 999}",
        "ip_pool: {network: 192.168.122.0/24, start: 200, end: 250, gateway: 192.168.122.1}",
        "",
      ].join("\n"),
      "0640",
      "root:blockhost",
    );
    guest.writeFile(
      "/etc/blockhost/web3-defaults.yaml",
      "blockchain: {chain_id: 11155111, rpc_url: 'https://rpc.sepolia.org'}\n",
      "0640",
      "root:blockhost",
    );
    guest.writeFile(
      "/etc/blockhost/blockhost.yaml",
      "server: {key_file: /etc/blockhost/server.key}\nbackend: dry-run\n",
      "0640",
      "root:blockhost",
    );
    const vms = {
      vms: {
        "blockhost-100": {
          vm_name: "blockhost-100",
          vmid: 100,
          ip_address: "192.168.122.200",
          status: "active",
          wallet_address: "0x1111111111111111111111111111111111111111",
          created_at: "2025-05-01T10:00:00",
          expires_at: "2099-01-01T00:00:00",
        },
      },
      next_vmid: 101,
      reserved_nft_tokens: {
        "0": {
          vm_name: "blockhost-100",
          status: "minted",
          owner_wallet: "0x1111111111111111111111111111111111111111",
          minted_at: "2025-05-01T10:00:05+00:00",
        },
      },
    };
    guest.writeFile("/var/lib/blockhost/vms.json", JSON.stringify(vms), "0640", "blockhost:blockhost");
    const out = guest.mustExec(["blockhost", "import"], { user: "blockhost" });
    expect(out).toContain("imported 1 VM(s)");
    expect(out).toContain("linked NFTs from reserved_nft_tokens: 0→blockhost-100");
    const before = guest.mustExec(["blockhost", "vm", "list", "--json"], { user: "blockhost" });
    expect(JSON.parse(before)[0]).toMatchObject({ vm_name: "blockhost-100", nft_token_id: 0, nft_minted: true });

    guest.mustExec(["apt-get", "install", "-y", `./blockhost_${UPGRADE_VERSION}_amd64.deb`], { cwd: "/mnt/pkg" });
    expect(guest.mustExec(["dpkg-query", "-W", "-f", `\${Version}`, "blockhost"])).toBe(UPGRADE_VERSION);
    expect(guest.mustExec(["blockhost", "vm", "list", "--json"], { user: "blockhost" })).toBe(before);
    expect(active("blockhost-agent.socket")).toBe("active");
    expect(sh("stat -c '%F %a %U %G' /run/blockhost/root-agent.sock").trim()).toBe("socket 660 root blockhost");
  });

  test("apt purge leaves no unit, user, group or file behind", () => {
    guest.mustExec(["apt-get", "purge", "-y", "blockhost"]);
    expect(guest.exec(["dpkg-query", "-W", "-f", `\${Status}`, "blockhost"]).stdout).not.toContain("installed");
    expect(guest.exec(["getent", "passwd", "blockhost"]).code).toBe(2);
    expect(guest.exec(["getent", "group", "blockhost"]).code).toBe(2);
    const units = guest.mustExec(["systemctl", "list-units", "--all", "--plain", "--no-legend", "blockhost*"]).trim();
    expect(units).toBe("");
    const left = sh("find / -xdev \\( -path /proc -o -path /mnt/pkg \\) -prune -o -name '*blockhost*' -print").trim();
    expect(left).toBe("");
    expect(sh("ls -A /run | grep -c blockhost || true").trim()).toBe("0");
  });
});
