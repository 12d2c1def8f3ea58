/** Agent file actions: wallet keys, config files, cloud-init snippets. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { privateKeyToAccount } from "viem/accounts";
import { blockhostGid } from "../../../src/core/fs.ts";
import { actionRunner } from "../../helpers/action-context.ts";
import { tempDir } from "../../helpers/binary.ts";

/** Actions that write files as root: keys, the addressbook, config files, cloud-init snippets. */
const { dir: root, cleanup } = tempDir("blockhost-files-");
const previousRoot = process.env.BLOCKHOST_ROOT;
const cfg = (name: string) => join(root, "etc/blockhost", name);
const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);
const asRoot = process.getuid?.() === 0;
let act: ReturnType<typeof actionRunner>;

beforeAll(() => {
  process.env.BLOCKHOST_ROOT = root;
  act = actionRunner({});
});
afterAll(() => {
  cleanup();
  if (previousRoot === undefined) delete process.env.BLOCKHOST_ROOT;
  else process.env.BLOCKHOST_ROOT = previousRoot;
});

describe("generate-wallet", () => {
  test("writes a 0640 key whose address is returned and added to the addressbook; the key is never returned", async () => {
    const r = await act("generate-wallet", { name: "hot" });
    expect(Object.keys(r).sort()).toEqual(["address", "keyfile"]);
    expect(r.keyfile).toBe(cfg("hot.key"));
    const hex = readFileSync(cfg("hot.key"), "utf8");
    expect(hex).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(r)).not.toContain(hex);
    expect(r.address).toBe(privateKeyToAccount(`0x${hex}`).address);
    expect(mode(cfg("hot.key"))).toBe("640");
    if (asRoot) expect(statSync(cfg("hot.key"))).toMatchObject({ uid: 0, gid: blockhostGid() ?? 0 });
    expect(JSON.parse(readFileSync(cfg("addressbook.json"), "utf8"))).toEqual({
      hot: { address: r.address, keyfile: cfg("hot.key") },
    });
    expect(mode(cfg("addressbook.json"))).toBe("640");
    expect(readdirSync(join(root, "etc/blockhost")).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  test("refuses to overwrite an existing key file", async () => {
    const before = readFileSync(cfg("hot.key"), "utf8");
    await expect(act("generate-wallet", { name: "hot" })).rejects.toMatchObject({ code: "E_CONFLICT" });
    expect(readFileSync(cfg("hot.key"), "utf8")).toBe(before);
  });

  test("concurrent wallets all land in the addressbook", async () => {
    const results = await Promise.all(["w1", "w2", "w3", "w4"].map((name) => act("generate-wallet", { name })));
    const book = JSON.parse(readFileSync(cfg("addressbook.json"), "utf8"));
    expect(Object.keys(book).sort()).toEqual(["hot", "w1", "w2", "w3", "w4"]);
    expect(results.map((r) => r.address)).toEqual(["w1", "w2", "w3", "w4"].map((n) => book[n].address));
  });
});

test("generate-wallet with a broken addressbook fails before creating a key", async () => {
  const book = readFileSync(cfg("addressbook.json"), "utf8");
  writeFileSync(cfg("addressbook.json"), "{ not json");
  await expect(act("generate-wallet", { name: "orphan" })).rejects.toMatchObject({ code: "E_CONFIG_INVALID" });
  expect(existsSync(cfg("orphan.key"))).toBe(false);
  writeFileSync(cfg("addressbook.json"), book);
});

describe("addressbook-save", () => {
  test("replaces the addressbook atomically, 0640", async () => {
    const entries = {
      admin: { address: `0x${"1".repeat(40)}` },
      hot: { address: `0x${"2".repeat(40)}`, keyfile: cfg("hot.key") },
    };
    expect(await act("addressbook-save", { entries })).toEqual({ entries: 2 });
    expect(JSON.parse(readFileSync(cfg("addressbook.json"), "utf8"))).toEqual(entries);
    expect(mode(cfg("addressbook.json"))).toBe("640");
  });
});

describe("admin-commands-save", () => {
  test("replaces the knock command table, 0640 (names are secrets); an invalid table changes nothing", async () => {
    const commands = { a1b2c3d4e5f60718: { action: "knock", params: { allowed_ports: [22], default_duration: 60 } } };
    expect(await act("admin-commands-save", { commands })).toEqual({ commands: 1 });
    expect(JSON.parse(readFileSync(cfg("admin-commands.json"), "utf8"))).toEqual({ commands });
    expect(mode(cfg("admin-commands.json"))).toBe("640");
    if (asRoot) expect(statSync(cfg("admin-commands.json")).gid).toBe(blockhostGid() ?? 0);
    const before = readFileSync(cfg("admin-commands.json"), "utf8");
    await expect(act("admin-commands-save", { commands: { x: { action: "exec" } } })).rejects.toMatchObject({
      code: "E_SCHEMA",
    });
    expect(readFileSync(cfg("admin-commands.json"), "utf8")).toBe(before);
  });
});

describe("config-write", () => {
  test("writes each file with its fixed mode", async () => {
    await act("config-write", { file: "admin-commands.json", content: '{"commands":{}}' });
    expect(mode(cfg("admin-commands.json"))).toBe("640");
    await act("config-write", { file: "server.key", content: "ab".repeat(32) });
    await act("config-write", { file: "server.pubkey", content: `0x04${"cd".repeat(64)}` });
    await act("config-write", { file: "https.json", content: '{"hostname":"h"}' });
    expect(mode(cfg("server.key"))).toBe("640");
    expect(mode(cfg("server.pubkey"))).toBe("644");
    expect(mode(cfg("https.json"))).toBe("644");
    expect(readFileSync(cfg("https.json"), "utf8")).toBe('{"hostname":"h"}');
  });

  test("a symlink planted at the target is replaced, not followed", async () => {
    const victim = join(root, "victim");
    writeFileSync(victim, "untouched");
    rmSync(cfg("https.json"));
    symlinkSync(victim, cfg("https.json"));
    await act("config-write", { file: "https.json", content: "{}" });
    expect(readFileSync(victim, "utf8")).toBe("untouched");
    expect(lstatSync(cfg("https.json")).isSymbolicLink()).toBe(false);
  });

  test("is refused once setup is complete", async () => {
    const marker = join(root, "var/lib/blockhost-agent/setup-complete");
    mkdirSync(join(root, "var/lib/blockhost-agent"), { recursive: true });
    writeFileSync(marker, "");
    await expect(act("config-write", { file: "https.json", content: "{}" })).rejects.toMatchObject({
      code: "E_SETUP_COMPLETE",
    });
    rmSync(marker);
  });
});

describe("cloud-init snippets", () => {
  test("cloudinit-write stores user-data and returns the cicustom volume; cloudinit-delete removes it", async () => {
    const r = await act("cloudinit-write", { name: "web-1", content: "#cloud-config\nhostname: web-1\n" });
    const file = join(root, "var/lib/vz/snippets/blockhost-web-1.yaml");
    expect(r).toEqual({ path: file, volume: "local:snippets/blockhost-web-1.yaml", meta_volume: null });
    expect(readFileSync(file, "utf8")).toBe("#cloud-config\nhostname: web-1\n");
    expect(mode(file)).toBe("640");
    expect(await act("cloudinit-delete", { name: "web-1" })).toEqual({ removed: true });
    expect(existsSync(file)).toBe(false);
    expect(await act("cloudinit-delete", { name: "web-1" })).toEqual({ removed: false });
  });

  test("with instance_id, meta-data pins instance-id and local-hostname; delete removes both", async () => {
    const r = await act("cloudinit-write", { name: "web-1", content: "#cloud-config\n", instance_id: "blockhost-101" });
    expect(r.meta_volume).toBe("local:snippets/blockhost-web-1.meta");
    const meta = join(root, "var/lib/vz/snippets/blockhost-web-1.meta");
    expect(readFileSync(meta, "utf8")).toBe("instance-id: blockhost-101\nlocal-hostname: web-1\n");
    expect(mode(meta)).toBe("640");
    await act("cloudinit-delete", { name: "web-1" });
    expect(existsSync(meta)).toBe(false);
  });

  test("a snippet storage from /etc/pve/storage.cfg is honoured; an unknown or file-less one is refused", async () => {
    mkdirSync(join(root, "etc/pve"), { recursive: true });
    writeFileSync(
      join(root, "etc/pve/storage.cfg"),
      [
        "dir: local",
        "\tpath /var/lib/vz",
        "\tcontent iso,vztmpl,backup",
        "",
        "nfs: snip_nfs",
        "\texport /srv/snippets",
        "\tpath /mnt/pve/snip_nfs",
        "\tserver 192.0.2.10",
        "\tcontent snippets",
        "",
        "lvmthin: local-lvm",
        "\tthinpool data",
        "\tvgname pve",
        "\tcontent rootdir,images",
        "",
      ].join("\n"),
    );
    const r = await act("cloudinit-write", {
      name: "web-3",
      content: "#cloud-config\n",
      storage: "snip_nfs",
      instance_id: "blockhost-103",
    });
    expect(r).toEqual({
      path: join(root, "mnt/pve/snip_nfs/snippets/blockhost-web-3.yaml"),
      volume: "snip_nfs:snippets/blockhost-web-3.yaml",
      meta_volume: "snip_nfs:snippets/blockhost-web-3.meta",
    });
    expect(existsSync(join(root, "var/lib/vz/snippets/blockhost-web-3.yaml"))).toBe(false);
    expect(await act("cloudinit-delete", { name: "web-3", storage: "snip_nfs" })).toEqual({ removed: true });
    expect(readdirSync(join(root, "mnt/pve/snip_nfs/snippets"))).toEqual([]);
    await expect(
      act("cloudinit-write", { name: "web-3", content: "#cloud-config\n", storage: "local-lvm" }),
    ).rejects.toThrow("snippet storage 'local-lvm' is of type lvmthin, which holds no files");
    await expect(
      act("cloudinit-write", { name: "web-3", content: "#cloud-config\n", storage: "nowhere" }),
    ).rejects.toMatchObject({
      code: "E_CONFIG_INVALID",
      message: `snippet storage 'nowhere' is not defined in ${join(root, "etc/pve/storage.cfg")}`,
    });
    rmSync(join(root, "etc/pve"), { recursive: true });
  });

  test("a snippets directory that is a symlink is refused", async () => {
    rmSync(join(root, "var/lib/vz"), { recursive: true });
    mkdirSync(join(root, "elsewhere"));
    symlinkSync(join(root, "elsewhere"), join(root, "var/lib/vz"));
    await expect(act("cloudinit-write", { name: "web-2", content: "#cloud-config\n" })).rejects.toMatchObject({
      code: "E_IO",
    });
    expect(readdirSync(join(root, "elsewhere"))).toEqual([]);
    expect(readlinkSync(join(root, "var/lib/vz"))).toBe(join(root, "elsewhere"));
  });
});
