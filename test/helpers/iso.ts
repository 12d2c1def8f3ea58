/** The installer ISO under test: built once per test file, read by loop mount, booted by QEMU (TCG here). */
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

export const OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd";
export const OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd";
const TOOLS = [
  ["/usr/bin/mmdebstrap", "mmdebstrap"],
  ["/usr/bin/mksquashfs", "squashfs-tools"],
  ["/usr/bin/grub-mkrescue", "grub2-common"],
  ["/usr/lib/grub/i386-pc/cdboot.img", "grub-pc-bin"],
  ["/usr/lib/grub/x86_64-efi/linux.mod", "grub-efi-amd64-bin"],
  ["/usr/bin/xorriso", "xorriso"],
  ["/usr/bin/mformat", "mtools"],
  ["/usr/bin/qemu-system-x86_64", "qemu-system-x86"],
  ["/usr/bin/qemu-img", "qemu-utils"],
  [OVMF_CODE, "ovmf"],
] as const;

/** Why this machine cannot build and boot the ISO, or undefined when it can. */
export function isoUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (mmdebstrap --mode=root)";
  const missing = TOOLS.filter(([path]) => !existsSync(path)).map(([, pkg]) => pkg);
  return missing.length > 0 ? `missing Debian packages: apt-get install ${missing.join(" ")}` : undefined;
}

export function sh(argv: string[], opts: { cwd?: string } = {}): string {
  const r = Bun.spawnSync(argv, { cwd: opts.cwd, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} exited ${r.exitCode}: ${r.stderr.toString().trim()}`);
  return r.stdout.toString();
}

/** The ISO's files, extracted by xorriso (no loop mount: kernels without iso9660, like containers', read it too). */
export function extractIso(iso: string): { dir: string; close: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "bh-iso-files-"));
  sh(["xorriso", "-osirrox", "on", "-indev", iso, "-extract", "/", dir]);
  return { dir, close: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A free TCP port on 127.0.0.1 (for QEMU's hostfwd, which binds only there). */
export function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

export interface MachineOptions {
  cdrom?: string;
  disk?: string;
  /** "bios" (SeaBIOS) or "uefi" (OVMF, with a private copy of its variable store). */
  firmware: "bios" | "uefi";
  /** Boot the CD once, then the disk (the machine reboots into what was installed). */
  cdromOnce?: boolean;
  /** Guest port → loopback port (user-mode networking, restricted: the guest reaches nothing outside). */
  forward?: Record<number, number>;
  memoryMiB?: number;
  /** Also append the serial console to this file (kept for a failure's post-mortem). */
  log?: string;
}

/** A QEMU machine (TCG) with its serial console captured. */
export class Machine {
  private serial = "";
  private constructor(
    private readonly proc: Subprocess<"ignore", "pipe", "pipe">,
    private readonly scratch: string,
    private readonly log?: string,
  ) {}

  static start(o: MachineOptions): Machine {
    const scratch = mkdtempSync(join(tmpdir(), "bh-iso-vm-"));
    const argv = [
      "qemu-system-x86_64",
      "-machine",
      "q35,accel=tcg",
      "-cpu",
      "max",
      "-smp",
      "2",
      "-m",
      String(o.memoryMiB ?? 2048),
      "-display",
      "none",
      "-monitor",
      "none",
      "-serial",
      "stdio",
      "-no-user-config",
      "-nodefaults",
    ];
    if (o.firmware === "uefi") {
      const vars = join(scratch, "OVMF_VARS.fd");
      sh(["cp", OVMF_VARS, vars]);
      argv.push("-drive", `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_CODE}`);
      argv.push("-drive", `if=pflash,format=raw,unit=1,file=${vars}`);
    }
    if (o.disk) argv.push("-drive", `file=${o.disk},if=virtio,format=qcow2,cache=unsafe`);
    if (o.cdrom) argv.push("-drive", `file=${o.cdrom},media=cdrom,readonly=on,if=ide,index=2`);
    if (o.cdromOnce) argv.push("-boot", "order=c,once=d");
    const fwd = Object.entries(o.forward ?? {})
      .map(([guest, host]) => `,hostfwd=tcp:127.0.0.1:${host}-:${guest}`)
      .join("");
    argv.push("-netdev", `user,id=n0,restrict=on${fwd}`, "-device", "virtio-net-pci,netdev=n0");
    const proc = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const m = new Machine(proc, scratch, o.log);
    void m.drain(proc.stdout);
    void m.drain(proc.stderr);
    return m;
  }

  private async drain(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      this.serial += decoder.decode(chunk);
      if (this.log) appendFileSync(this.log, chunk);
    }
  }

  /** Everything on the serial console so far, terminal escapes removed. */
  get console(): string {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing the terminal's escape sequences
    return this.serial.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r/g, "");
  }

  /** Wait until `pattern` shows on the console; fails early when QEMU exits or the installer reports a failure. */
  async waitFor(pattern: RegExp, ms: number, what: string, from = 0): Promise<RegExpExecArray> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const text = this.console.slice(from);
      const m = pattern.exec(text);
      if (m) return m;
      const failed = /blockhost-installer: FAILED: .*/.exec(text);
      if (failed) throw new Error(`${what}: the installer failed: ${failed[0]}\n${text.slice(-3000)}`);
      if (this.proc.exitCode !== null)
        throw new Error(`${what}: QEMU exited (${this.proc.exitCode}): ${text.slice(-3000)}`);
      await Bun.sleep(500);
    }
    throw new Error(`timed out (${ms / 1000} s) waiting for ${what}; console:\n${this.console.slice(-3000)}`);
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null) {
      this.proc.kill("SIGTERM");
      const timer = setTimeout(() => this.proc.kill("SIGKILL"), 10_000);
      await this.proc.exited;
      clearTimeout(timer);
    }
    rmSync(this.scratch, { recursive: true, force: true });
  }
}

/** A blank qcow2 disk in `dir`. */
export function blankDisk(dir: string, sizeGiB: number): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "disk.qcow2");
  rmSync(path, { force: true });
  sh(["qemu-img", "create", "-q", "-f", "qcow2", path, `${sizeGiB}G`]);
  return path;
}

/** The .iso's manifest (written beside it). */
export function readManifest(iso: string): Record<string, unknown> & {
  blockhost: { version: string; deb: string; sha256: string };
  packages: Record<string, string>;
  debian: { suite: string; snapshot: Record<string, string> };
  iso_sha256: string;
} {
  return JSON.parse(readFileSync(`${iso}.manifest.json`, "utf8"));
}
