/**
 * Apply a parsed seed to a guest: hostname, hosts, network (ifupdown), DNS, users + GECOS + sudo +
 * SSH keys, write_files (the wallet-login config among them), fresh SSH host keys. Files are written
 * under `host.root` (a test passes a scratch directory and a recording `run`); commands go through
 * `host.run` (argv only, never a shell).
 */
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { BlockhostError } from "../core/errors.ts";
import { hostsFile, interfacesFile, linkFile, resolvConf, sudoersFile } from "./render.ts";
import type { GuestFile, GuestInterface, GuestSeed, GuestUser } from "./seed.ts";

export interface RunResult {
  code: number;
  out: string;
  err: string;
}

export interface GuestHost {
  root: string;
  run(argv: string[], input?: string): RunResult;
  /** The guest's NICs now: MAC (lower case) → name. */
  nics(): Map<string, string>;
  log(line: string): void;
}

/** Where the ifupdown stanzas go (the template's /etc/network/interfaces sources this directory). */
export const INTERFACES_FILE = "/etc/network/interfaces.d/50-blockhost";
export const SUDOERS_FILE = "/etc/sudoers.d/90-blockhost-users";
/** Host key types made at first boot: RSA is left out (its generation costs seconds under emulation). */
export const HOST_KEY_TYPES = ["ed25519", "ecdsa"] as const;

const must = (host: GuestHost, argv: string[], input?: string): string => {
  const r = host.run(argv, input);
  if (r.code !== 0)
    throw new BlockhostError("E_STATE", `${argv[0]} failed (exit ${r.code}): ${r.err.trim().split("\n").at(-1) ?? ""}`);
  return r.out;
};

/** Write `rel` under the root atomically (temp file + rename), creating parent directories. */
function put(host: GuestHost, rel: string, content: string | Buffer, mode = 0o644): string {
  const file = join(host.root, rel);
  mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
  const tmp = `${file}.blockhost-tmp`;
  rmSync(tmp, { force: true });
  writeFileSync(tmp, content, { mode });
  chmodSync(tmp, mode);
  // resolv.conf may be a symlink (resolvconf, systemd-resolved): replace the link, not its target.
  rmSync(file, { force: true });
  renameSync(tmp, file);
  return file;
}

/** uid and gid of a user or group name from the guest's own passwd/group files. */
function idOf(host: GuestHost, db: "passwd" | "group", name: string): number | undefined {
  const file = join(host.root, "etc", db);
  if (!existsSync(file)) return undefined;
  const line = readFileSync(file, "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${name}:`));
  const id = line?.split(":")[2];
  return id === undefined ? undefined : Number(id);
}

function passwdEntry(host: GuestHost, name: string): { uid: number; gid: number; home: string } | undefined {
  const line = readFileSync(join(host.root, "etc/passwd"), "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${name}:`));
  if (!line) return undefined;
  const f = line.split(":");
  return { uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? `/home/${name}` };
}

export function applyHostname(host: GuestHost, seed: GuestSeed): void {
  put(host, "etc/hostname", `${seed.hostname}\n`);
  put(host, "etc/hosts", hostsFile(seed));
  if (host.root === "/") writeFileSync("/proc/sys/kernel/hostname", seed.hostname);
}

/**
 * Match each seed NIC to a guest NIC (by MAC, else by name), rename it to the seed's name when
 * that name is free (and keep the name for later boots with a .link file), and write the stanzas.
 */
export function applyNetwork(host: GuestHost, seed: GuestSeed): GuestInterface[] {
  const now = host.nics();
  const taken = new Set(now.values());
  const named: GuestInterface[] = [];
  for (const nic of seed.interfaces) {
    const current = nic.mac ? now.get(nic.mac) : taken.has(nic.name) ? nic.name : undefined;
    if (!current) {
      host.log(`no NIC ${nic.mac ?? nic.name} in this VM; its configuration is skipped`);
      continue;
    }
    let name = current;
    if (nic.mac && nic.name !== current && !taken.has(nic.name)) {
      const r = host.run(["ip", "link", "set", "dev", current, "name", nic.name]);
      if (r.code === 0) {
        name = nic.name;
        taken.add(name);
        put(host, `etc/systemd/network/10-blockhost-${name}.link`, linkFile(nic.mac, name));
      } else host.log(`could not rename ${current} to ${nic.name} (${r.err.trim()}); keeping ${current}`);
    }
    named.push({ ...nic, name });
  }
  put(host, INTERFACES_FILE, interfacesFile(named));
  put(host, "etc/resolv.conf", resolvConf(seed));
  return named;
}

function applyUser(host: GuestHost, u: GuestUser): void {
  const groups = u.groups.filter((g) => idOf(host, "group", g) !== undefined);
  const missing = u.groups.filter((g) => !groups.includes(g));
  if (missing.length) host.log(`user ${u.name}: no group ${missing.join(", ")} in this image; skipped`);
  const common = [
    ...(u.gecos !== undefined ? ["--comment", u.gecos] : []),
    ...(u.shell ? ["--shell", u.shell] : []),
    ...(groups.length ? ["--groups", groups.join(",")] : []),
  ];
  if (passwdEntry(host, u.name)) must(host, ["usermod", ...common, u.name]);
  else must(host, ["useradd", "--create-home", "--user-group", ...common, u.name]);
  // A new account's password is "!" (locked): keyboard-interactive wallet login is the way in.
  if (!u.sshKeys.length) return;
  const pw = passwdEntry(host, u.name);
  if (!pw) throw new BlockhostError("E_STATE", `user ${u.name} was not created`);
  const sshDir = join(pw.home, ".ssh").slice(1);
  const keys = put(host, join(sshDir, "authorized_keys"), `${u.sshKeys.join("\n")}\n`, 0o600);
  chmodSync(dirname(keys), 0o700);
  if (host.root === "/") {
    chownSync(dirname(keys), pw.uid, pw.gid);
    chownSync(keys, pw.uid, pw.gid);
  }
}

export function applyUsers(host: GuestHost, seed: GuestSeed): void {
  for (const u of seed.users) applyUser(host, u);
  const sudoers = sudoersFile(seed.users);
  if (sudoers) put(host, SUDOERS_FILE, sudoers, 0o440);
}

function applyFile(host: GuestHost, f: GuestFile): void {
  const rel = f.path.slice(1);
  const existing = f.append && existsSync(join(host.root, rel)) ? readFileSync(join(host.root, rel)) : null;
  const file = put(host, rel, existing ? Buffer.concat([existing, f.content]) : f.content, f.mode);
  const uid = idOf(host, "passwd", f.owner);
  const gid = idOf(host, "group", f.group);
  if (uid === undefined || gid === undefined)
    throw new BlockhostError("E_STATE", `write_files ${f.path}: owner ${f.owner}:${f.group} does not exist`);
  if (host.root === "/") chownSync(file, uid, gid);
}

export function applyFiles(host: GuestHost, seed: GuestSeed): void {
  for (const f of seed.files) applyFile(host, f);
}

/** New SSH host keys for this instance (a template or a previous instance must not share them). */
export function applyHostKeys(host: GuestHost, hostname: string): string[] {
  const dir = join(host.root, "etc/ssh");
  for (const n of readdirSync(dir)) if (n.startsWith("ssh_host_")) rmSync(join(dir, n), { force: true });
  const fingerprints: string[] = [];
  for (const t of HOST_KEY_TYPES) {
    const key = join(dir, `ssh_host_${t}_key`);
    must(host, ["ssh-keygen", "-q", "-t", t, "-N", "", "-C", `root@${hostname}`, "-f", key]);
    fingerprints.push(must(host, ["ssh-keygen", "-l", "-f", `${key}.pub`]).trim());
  }
  return fingerprints;
}
