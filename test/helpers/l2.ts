/** Hand-made Ethernet frames (ARP, NDP) and captures inside test namespaces, through test/fixtures/l2-frames.ts. */
import { join } from "node:path";

const FIXTURE = join(import.meta.dir, "../fixtures/l2-frames.ts");
const IP = "/usr/sbin/ip";

const mac = (m: string) => Buffer.from(m.replace(/:/g, ""), "hex");
const ip4 = (a: string) => Buffer.from(a.split(".").map(Number));
function ip6(a: string): Buffer {
  const [head, tail] = a.includes("::") ? (a.split("::") as [string, string]) : [a, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return Buffer.from(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
}
const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);

/** An ARP frame: op 1 request, 2 reply. */
export function arpFrame(o: {
  ethSrc: string;
  ethDst: string;
  op: 1 | 2;
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
}): string {
  return Buffer.concat([
    mac(o.ethDst),
    mac(o.ethSrc),
    u16(0x0806),
    Buffer.from([0, 1, 8, 0, 6, 4]),
    u16(o.op),
    mac(o.senderMac),
    ip4(o.senderIp),
    mac(o.targetMac),
    ip4(o.targetIp),
  ]).toString("hex");
}

function icmpv6Checksum(src: Buffer, dst: Buffer, body: Buffer): number {
  const pseudo = Buffer.concat([
    src,
    dst,
    Buffer.from([0, 0, body.length >> 8, body.length & 0xff, 0, 0, 0, 58]),
    body,
  ]);
  let sum = 0;
  for (let i = 0; i < pseudo.length; i += 2) sum += (pseudo[i]! << 8) | (pseudo[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

/** An unsolicited neighbour advertisement (override flag set) with a target link-layer address option. */
export function naFrame(o: { ethSrc: string; ethDst: string; src: string; dst: string; target: string; tlla: string }) {
  const [src, dst] = [ip6(o.src), ip6(o.dst)];
  const body = Buffer.concat([
    Buffer.from([136, 0, 0, 0, 0x20, 0, 0, 0]),
    ip6(o.target),
    Buffer.from([2, 1]),
    mac(o.tlla),
  ]);
  body.writeUInt16BE(icmpv6Checksum(src, dst, body), 2);
  const header = Buffer.concat([Buffer.from([0x60, 0, 0, 0]), u16(body.length), Buffer.from([58, 255]), src, dst]);
  return Buffer.concat([mac(o.ethDst), mac(o.ethSrc), u16(0x86dd), header, body]).toString("hex");
}

/** What a captured frame says, decoded as far as these tests look. */
export interface Frame {
  pkttype: number;
  ethSrc: string;
  ethType: number;
  arp?: { op: number; senderMac: string; senderIp: string; targetIp: string };
  ip4?: { src: string; dst: string };
  ip6?: { src: string; dst: string; icmpType?: number; naTarget?: string };
}

const hexMac = (b: Buffer) => [...b].map((x) => x.toString(16).padStart(2, "0")).join(":");
const text4 = (b: Buffer) => [...b].join(".");
const text6 = (b: Buffer) => {
  const groups = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2).toString(16));
  return groups
    .join(":")
    .replace(/(^|:)0(:0)+(:|$)/, "::")
    .replace(/:{3,}/, "::");
};

export function decodeFrame(line: string): Frame {
  const [type, hex] = line.split(" ") as [string, string];
  const b = Buffer.from(hex, "hex");
  const f: Frame = { pkttype: Number(type), ethSrc: hexMac(b.subarray(6, 12)), ethType: b.readUInt16BE(12) };
  if (f.ethType === 0x0806)
    f.arp = {
      op: b.readUInt16BE(20),
      senderMac: hexMac(b.subarray(22, 28)),
      senderIp: text4(b.subarray(28, 32)),
      targetIp: text4(b.subarray(38, 42)),
    };
  if (f.ethType === 0x0800) f.ip4 = { src: text4(b.subarray(26, 30)), dst: text4(b.subarray(30, 34)) };
  if (f.ethType === 0x86dd) {
    f.ip6 = { src: text6(b.subarray(22, 38)), dst: text6(b.subarray(38, 54)) };
    if (b[20] === 58) {
      f.ip6.icmpType = b[54];
      if (b[54] === 136) f.ip6.naTarget = text6(b.subarray(62, 78));
    }
  }
  return f;
}

/** Send frames from `iface` inside namespace `ns` (as root there, like a customer in their VM). */
export function sendFrames(ns: string, iface: string, frames: string[]): void {
  const r = Bun.spawnSync([IP, "netns", "exec", ns, process.execPath, FIXTURE, "send", iface, ...frames], {
    stdout: "pipe",
    stderr: "pipe",
  });
  if (r.exitCode !== 0) throw new Error(`send frames in ${ns}: ${r.stderr.toString()}`);
}

/** Everything received on one interface of a namespace from start() on. */
export class Capture {
  readonly frames: Frame[] = [];
  private proc?: ReturnType<typeof Bun.spawn>;
  constructor(
    private readonly ns: string,
    private readonly iface: string,
  ) {}

  async start(): Promise<this> {
    const proc = Bun.spawn([IP, "netns", "exec", this.ns, process.execPath, FIXTURE, "capture", this.iface], {
      stdout: "pipe",
      stderr: "inherit",
    });
    this.proc = proc;
    let ready: () => void = () => {};
    const isReady = new Promise<void>((r) => (ready = r));
    void (async () => {
      let rest = "";
      for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) {
        const lines = (rest + new TextDecoder().decode(chunk)).split("\n");
        rest = lines.pop() ?? "";
        for (const line of lines) {
          if (line === "ready") ready();
          else if (line) this.frames.push(decodeFrame(line));
        }
      }
    })();
    await Promise.race([
      isReady,
      Bun.sleep(15_000).then(() => {
        throw new Error(`capture on ${this.iface} in ${this.ns} did not start`);
      }),
    ]);
    return this;
  }

  /** Wait until a received (not outgoing) frame matches; the event negatives are judged after. */
  async waitFor(what: string, match: (f: Frame) => boolean, ms = 15_000): Promise<Frame> {
    const deadline = Date.now() + ms;
    for (;;) {
      const f = this.received().find(match);
      if (f) return f;
      if (Date.now() > deadline) throw new Error(`no ${what} on ${this.iface} in ${this.ns}`);
      await Bun.sleep(20);
    }
  }

  received(): Frame[] {
    return this.frames.filter((f) => f.pkttype !== 4);
  }

  stop(): void {
    this.proc?.kill("SIGKILL");
  }
}
