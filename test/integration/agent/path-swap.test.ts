// The compiled agent against a compromised `blockhost` account: the real uid, in a tree it owns,
// swapping directories and files with renameat2(RENAME_EXCHANGE) while it sends path-taking requests.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { startAgent, type RunningAgent } from "../../helpers/agent.ts";
import { tempDir } from "../../helpers/binary.ts";
import { hostileService, type HostileService } from "../../helpers/hostile-service.ts";
import { writeScopeConfig } from "../../helpers/scope-config.ts";

const skip =
  process.getuid?.() !== 0
    ? "needs root (a second uid, chown)"
    : !Bun.which("setpriv") || !Bun.which("qemu-img")
      ? "needs setpriv and qemu-img"
      : "";
if (skip) console.log(`skipping hostile service account tests: ${skip}`);

const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");
const MARKER = `PLANTED-${Math.random().toString(36).slice(2)}`;
const PAYLOAD = `APT::Update::Pre-Invoke {"touch /pwned"};\n// ${MARKER}\n`;
const SECRET = `ROOT-ONLY-SECRET-${Math.random().toString(36).slice(2)}\n`;

describe.skipIf(!!skip)("a hostile blockhost account against the agent", () => {
  const tmp = tempDir("blockhost-hostile-");
  const root = tmp.dir;
  const state = join(root, "var/lib/blockhost");
  const images = join(state, "images");
  const target = join(root, "etc/target.d"); // stands for /etc/apt/apt.conf.d: root-only, run by root
  const secret = join(root, "etc/blockhost/root-only.key");
  const qmLog = join(root, "qm.log");
  let agent: RunningAgent;
  let attacker: HostileService;
  const own = (path: string) => chownSync(path, attacker.uid, attacker.gid);

  beforeAll(async () => {
    chmodSync(root, 0o755);
    attacker = hostileService(join(root, "attacker-bin"));
    for (const d of ["etc/blockhost", "var/lib", "run"]) mkdirSync(join(root, d), { recursive: true, mode: 0o755 });
    mkdirSync(target, { mode: 0o700 });
    writeFileSync(secret, SECRET, { mode: 0o600 });
    // Stands in for qm: logs where the file it was given really is and what it holds.
    const qm = join(root, "qm-stub.sh");
    writeFileSync(
      qm,
      `#!/bin/sh\nprintf '%s %s\\n' "$(readlink -f "$3")" "$(sha256sum < "$3" | cut -d' ' -f1)" >> '${qmLog}'\n` +
        `echo "Successfully imported disk as 'unused0:$4:vm-$2-disk-0'"\n`,
    );
    chmodSync(qm, 0o755);
    agent = await startAgent({ root, binaries: { qm } });
    writeScopeConfig(root, { vmidRange: { start: 150, end: 199 } });
    chmodSync(join(root, "run/blockhost"), 0o755);
    // The service's own tree, as the package makes it: 0750 blockhost:blockhost.
    mkdirSync(images, { recursive: true });
    for (const d of [state, images]) own(d);
    chmodSync(state, 0o750);
  });
  afterAll(async () => {
    await agent?.stop();
    tmp.cleanup();
  });

  /** Exchange `a` and `b` back when `a` is the symlink of the pair. */
  const unswap = (a: string, b: string) => {
    if (!lstatSync(a, { throwIfNoEntry: false })?.isSymbolicLink()) return;
    renameSync(a, `${a}.swap`);
    renameSync(b, a);
    renameSync(`${a}.swap`, b);
  };

  /** Every regular file under `dir` (not following symlinks) whose content contains `needle`. */
  const filesContaining = (dir: string, needle: string, skipDirs: string[]): string[] => {
    const out: string[] = [];
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const st = lstatSync(p);
      if (st.isDirectory() && !skipDirs.includes(p)) out.push(...filesContaining(p, needle, skipDirs));
      else if (st.isFile() && st.size < 1 << 20 && readFileSync(p).includes(needle)) out.push(p);
    }
    return out;
  };

  test("racing directory and file swaps never get a byte outside the agent's own directory, nor a root-only file read", async () => {
    const payload = join(images, "payload.img");
    writeFileSync(payload, PAYLOAD);
    symlinkSync(secret, join(images, "payload-alt.img"));
    symlinkSync(target, join(state, "images-alt"));
    // The audit's S1: swap the staging directory an agent would make in this tree for a symlink.
    symlinkSync(target, join(state, ".agent-staging-alt"));
    for (const p of [payload, join(images, "payload-alt.img"), join(state, "images-alt")]) own(p);
    own(join(state, ".agent-staging-alt"));
    rmSync(qmLog, { force: true });

    const importdisk = { action: "qm-importdisk", params: { vmid: 150, disk_path: payload, storage: "local-lvm" } };
    /** 100 imports while `flippers` run; the payload's directory and file are put back afterwards. */
    const race = async (pairs: Array<Array<[string, string]>>) => {
      const flippers = pairs.map((p) => attacker.flip(p));
      try {
        return {
          replies: await attacker.call(
            agent.socket,
            Array.from({ length: 100 }, () => importdisk),
          ),
        };
      } finally {
        const swaps = await Promise.all(flippers.map((f) => f.stop()));
        // An odd number of swaps leaves a pair exchanged: put the real directory and file back.
        unswap(join(state, "images"), join(state, "images-alt"));
        unswap(payload, join(images, "payload-alt.img"));
        console.log(`swaps per flipper: ${swaps.join(", ")}`);
      }
    };
    // The audit's exploit alone (an agent that stages in this tree), then the client's own path swapped.
    const staging = await race([[[join(state, ".agent-staging"), join(state, ".agent-staging-alt")]]]);
    const paths = await race([
      [[join(state, "images"), join(state, "images-alt")]],
      [[payload, join(images, "payload-alt.img")]],
    ]);
    const replies = [...staging.replies, ...paths.replies];
    expect(paths.replies.some((r) => !r.ok)).toBe(true); // the swaps did hit some requests

    // The payload exists only in the attacker's own tree, where it was: nothing was planted or moved.
    expect(readFileSync(payload, "utf8")).toBe(PAYLOAD);
    expect(readdirSync(target)).toEqual([]);
    expect(filesContaining(root, MARKER, [state])).toEqual([]);
    expect(readFileSync(secret, "utf8")).toBe(SECRET);
    expect(readdirSync(join(root, "var/lib/blockhost-agent/staging"))).toEqual([]); // copies are removed
    expect(replies).toHaveLength(200);
    const codes = new Set(replies.filter((r) => !r.ok).map((r) => r.code));
    for (const code of codes) expect(["E_AGENT_INVALID_PARAMS", "E_STATE"]).toContain(code as string);
    expect(replies.some((r) => r.ok)).toBe(true); // the race did not merely make every request fail
    const imported = readFileSync(qmLog, "utf8").trim().split("\n");
    expect(imported.length).toBe(replies.filter((r) => r.ok).length);
    for (const line of imported) {
      const [where, digest] = line.split(" ");
      expect(where).toStartWith(join(root, "var/lib/blockhost-agent/staging/"));
      expect(digest).toBe(sha(PAYLOAD)); // never the root-only file
    }
  }, 180_000);

  test("path-taking libvirt actions refuse templates outside the root-owned templates dir", async () => {
    const fake = join(images, "template.qcow2");
    await attacker.run(["qemu-img", "create", "-q", "-f", "qcow2", fake, "1M"]);
    const replies = await attacker.call(agent.socket, [
      { action: "qemu-img-overlay", params: { name: "blockhost-150", template: fake, size_gb: 1 } },
      {
        action: "virsh-define",
        params: {
          name: "blockhost-150",
          template: fake,
          memory_mb: 256,
          vcpus: 1,
          mac: "52:54:00:00:00:01",
          bridge: "vmbr0",
          accel: "tcg",
        },
      },
    ]);
    expect(replies.map((r) => r.code)).toEqual(["E_AGENT_INVALID_PARAMS", "E_AGENT_INVALID_PARAMS"]);
    expect(existsSync(join(root, "var/lib/libvirt/blockhost/vms/blockhost-150"))).toBe(false);
  });

  describe("images made with qemu-img", () => {
    const importOf = async (file: string) =>
      (
        await attacker.call(agent.socket, [
          { action: "qm-importdisk", params: { vmid: 151, disk_path: file, storage: "local-lvm" } },
        ])
      )[0]!;
    const made = async (name: string, ...argv: string[]) => {
      const file = join(images, name);
      const r = await attacker.run(["qemu-img", "create", "-q", ...argv.map((a) => a.replace("FILE", file))]);
      expect(r.stderr).toBe("");
      return file;
    };
    const importedCount = () => (existsSync(qmLog) ? readFileSync(qmLog, "utf8").trim().split("\n").length : 0);

    test("a qcow2 whose backing file is a root-only file is refused before qm runs", async () => {
      const evil = await made("evil.qcow2", "-u", "-f", "qcow2", "-F", "raw", "-b", secret, "FILE", "1M");
      const before = importedCount();
      const r = await importOf(evil);
      expect(r).toMatchObject({ ok: false, code: "E_INVALID_INPUT" });
      expect(String(r.error)).toContain("backing file");
      expect(importedCount()).toBe(before);
    });

    test("a qcow2 with an external data file, and other formats, are refused", async () => {
      const withData = await made(
        "data.qcow2",
        "-f",
        "qcow2",
        "-o",
        `data_file=${join(images, "data.raw")}`,
        "FILE",
        "1M",
      );
      const vmdk = await made("disk.vmdk", "-f", "vmdk", "FILE", "1M");
      const vdi = await made("disk.vdi", "-f", "vdi", "FILE", "1M");
      const before = importedCount();
      for (const [file, why] of [
        [withData, "external data file"],
        [vmdk, "vmdk"],
        [vdi, "vdi"],
      ] as const) {
        const r = await importOf(file);
        expect(r).toMatchObject({ ok: false, code: "E_INVALID_INPUT" });
        expect(String(r.error)).toContain(why);
      }
      expect(importedCount()).toBe(before);
    });

    test("a self-contained qcow2 and a raw image are imported, with their format named", async () => {
      const good = await made("good.qcow2", "-f", "qcow2", "FILE", "1M");
      const raw = await made("good.raw", "-f", "raw", "FILE", "1M");
      expect(await importOf(good)).toMatchObject({ ok: true, format: "qcow2" });
      expect(await importOf(raw)).toMatchObject({ ok: true, format: "raw" });
    });

    test("a file the caller does not own is refused, even in its own directory", async () => {
      const foreign = join(images, "root-owned.img");
      writeFileSync(foreign, "root's disk\n", { mode: 0o644 });
      const r = await importOf(foreign);
      expect(r).toMatchObject({ ok: false, code: "E_STATE" });
      expect(String(r.error)).toContain("not to the caller");
    });
  });

  describe("setup cannot be reopened by the service account", () => {
    const configWrite = { action: "config-write", params: { file: "deployer.key", content: "11".repeat(32) } };

    test("after setup-complete, deleting or planting files in its own tree changes nothing", async () => {
      await agent.client.call("setup-complete", {});
      const marker = join(root, "var/lib/blockhost-agent/setup-complete");
      expect(existsSync(marker)).toBe(true);
      // What the account can try: remove the old-place marker, the new one, or the agent's directory.
      await attacker.run(["rm", "-f", join(state, ".setup-complete")]);
      expect((await attacker.run(["rm", "-f", marker])).code).not.toBe(0);
      expect((await attacker.run(["mv", join(root, "var/lib/blockhost-agent"), join(state, "x")])).code).not.toBe(0);
      const replies = await attacker.call(agent.socket, [configWrite, { action: "setup-complete", params: {} }]);
      expect(replies.map((r) => r.code)).toEqual(["E_SETUP_COMPLETE", "E_SETUP_COMPLETE"]);
      expect(existsSync(join(root, "etc/blockhost/deployer.key"))).toBe(false);
    });

    test("a host set up by an older version (marker in /var/lib/blockhost) stays closed once the old marker is deleted", async () => {
      const old = tempDir("blockhost-hostile-old-");
      chmodSync(old.dir, 0o755);
      const oldState = join(old.dir, "var/lib/blockhost");
      mkdirSync(oldState, { recursive: true, mode: 0o755 });
      writeFileSync(join(oldState, ".setup-complete"), "2026-01-01T00:00:00Z\n");
      own(oldState);
      own(join(oldState, ".setup-complete"));
      const older = await startAgent({ root: old.dir });
      try {
        chmodSync(join(old.dir, "run/blockhost"), 0o755);
        expect(existsSync(join(old.dir, "var/lib/blockhost-agent/setup-complete"))).toBe(true);
        expect((await attacker.run(["rm", join(oldState, ".setup-complete")])).code).toBe(0);
        const [reply] = await attacker.call(older.socket, [configWrite]);
        expect(reply).toMatchObject({ ok: false, code: "E_SETUP_COMPLETE" });
      } finally {
        await older.stop();
        old.cleanup();
      }
    });
  });
});
