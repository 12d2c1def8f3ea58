/** Agent actions: the WireGuard tunnel to the IPv6 broker (`wg-broker`); its key never leaves /etc/blockhost. */
import { x25519 } from "@noble/curves/ed25519.js";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { BlockhostError } from "../../core/errors.ts";
import { ensureDirUnder, writeFileAtomic } from "../../core/fs.ts";
import { paths } from "../../core/paths.ts";
import { bool, int, object, refine, withDefault } from "../../core/schema.ts";
import { commandFailedWith } from "../run.ts";
import { brokerAllocationSchema, wgEndpoint, wgPublicKey } from "../../core/config/broker-allocation.ts";
import { requireBrokerRenewal } from "../scope-after-setup.ts";
import { defineAction } from "./types.ts";

export const WG_BROKER = "wg-broker";

/** `IPv4:port` or `[IPv6]:port`; a name would need DNS at every restart, the broker sends an address. */
const endpoint = refine(wgEndpoint, "an endpoint with a port from 1 to 65535", (v) => {
  const port = Number(v.slice(v.lastIndexOf(":") + 1));
  return port >= 1 && port <= 65_535;
});

const toBase64 = (b: Uint8Array) => Buffer.from(b).toString("base64");

function publicKeyOfFile(): string {
  const key = Buffer.from(readFileSync(paths.wgBrokerKey, "utf8").trim(), "base64");
  if (key.length !== 32) throw new BlockhostError("E_CONFIG_INVALID", `${paths.wgBrokerKey}: not a WireGuard key`);
  return toBase64(x25519.getPublicKey(key));
}

/**
 * The tunnel's key pair: made once (or again with `rotate`), the private half written 0600 root
 * under /etc/blockhost; only the public key is returned, for the broker request.
 */
export const wgBrokerKey = defineAction({
  name: "wg-broker-key",
  params: object({ rotate: withDefault(bool, false) }),
  timeoutMs: 10_000,
  handler: async (p) => {
    const made = p.rotate || !existsSync(paths.wgBrokerKey);
    if (made) {
      ensureDirUnder(paths.root, paths.configDir);
      writeFileAtomic(paths.wgBrokerKey, `${toBase64(x25519.utils.randomSecretKey())}\n`, { mode: 0o600 });
    }
    return { public_key: publicKeyOfFile(), generated: made };
  },
});

/** wg-quick's file for the persistent tunnel: the key is loaded from /etc/blockhost by PostUp, never copied. */
export function wgQuickConf(peer: string, endpointText: string, keepalive: number): string {
  return [
    "# Written by the blockhost agent (wg-broker-up): the tunnel to the IPv6 broker.",
    "[Interface]",
    `PostUp = wg set %i private-key ${paths.wgBrokerKey}`,
    "PostUp = ip -6 route replace default dev %i",
    "",
    "[Peer]",
    `PublicKey = ${peer}`,
    `Endpoint = ${endpointText}`,
    "AllowedIPs = ::/0",
    `PersistentKeepalive = ${keepalive}`,
    "",
  ].join("\n");
}

/**
 * Bring the tunnel up now (kernel WireGuard, or userspace wireguard-go where the kernel has
 * none), with the broker as its only peer and the IPv6 default route through it, and write the
 * wg-quick file that brings it back at boot (`wg-quick@wg-broker`, enabled where systemd runs).
 */
export const wgBrokerUp = defineAction({
  name: "wg-broker-up",
  params: object({ peer_public_key: wgPublicKey, endpoint, keepalive: withDefault(int(0, 3600), 25) }),
  timeoutMs: 60_000,
  handler: async (p, ctx) => {
    if (!existsSync(paths.wgBrokerKey))
      throw new BlockhostError("E_CONFIG_MISSING", `${paths.wgBrokerKey} is missing: run wg-broker-key first`);
    const exists = await ctx.run("ip", ["link", "show", "dev", WG_BROKER], { okCodes: [0, 1] });
    let userspace = false;
    if (exists.code !== 0) {
      try {
        await ctx.run("ip", ["link", "add", "dev", WG_BROKER, "type", "wireguard"]);
      } catch (e) {
        if (!commandFailedWith(e, /Unknown device type|not supported/i)) throw e;
        await ctx.run("wireguard-go", [WG_BROKER]);
        userspace = true;
      }
    }
    await ctx.run("wg", ["set", WG_BROKER, "private-key", paths.wgBrokerKey]);
    await ctx.run("wg", [
      "set",
      WG_BROKER,
      "peer",
      p.peer_public_key,
      "endpoint",
      p.endpoint,
      "allowed-ips",
      "::/0",
      "persistent-keepalive",
      String(p.keepalive),
    ]);
    await ctx.run("ip", ["link", "set", "dev", WG_BROKER, "up"]);
    await ctx.run("ip", ["-6", "route", "replace", "default", "dev", WG_BROKER]);
    ensureDirUnder(paths.root, dirname(paths.wgBrokerConf), 0o700);
    writeFileAtomic(paths.wgBrokerConf, wgQuickConf(p.peer_public_key, p.endpoint, p.keepalive), { mode: 0o600 });
    let persistent = "";
    if (paths.root !== "/") persistent = `BLOCKHOST_ROOT is ${paths.root}, not /: wg-quick@${WG_BROKER} not enabled`;
    else if (!existsSync("/run/systemd/system")) persistent = "systemd is not running as PID 1: wg-quick not enabled";
    else await ctx.run("systemctl", ["enable", `wg-quick@${WG_BROKER}`]);
    return { interface: WG_BROKER, userspace, conf: paths.wgBrokerConf, boot: persistent || "enabled" };
  },
});

/** Take the tunnel down and forget it at boot; the key stays (a later request reuses or rotates it). */
export const wgBrokerDown = defineAction({
  name: "wg-broker-down",
  params: object({}),
  timeoutMs: 30_000,
  handler: async (_p, ctx) => {
    const r = await ctx.run("ip", ["link", "del", "dev", WG_BROKER], { okCodes: [0, 1, 2] });
    rmSync(paths.wgBrokerConf, { force: true });
    if (paths.root === "/" && existsSync("/run/systemd/system"))
      await ctx.run("systemctl", ["disable", `wg-quick@${WG_BROKER}`], { okCodes: [0, 1] });
    return { removed: r.code === 0 };
  },
});

/** When the broker last answered (`wg show wg-broker latest-handshakes`), for status lines. */
export const wgBrokerStatus = defineAction({
  name: "wg-broker-status",
  params: object({}),
  timeoutMs: 10_000,
  handler: async (_p, ctx) => {
    const r = await ctx.run("wg", ["show", WG_BROKER, "latest-handshakes"], { okCodes: [0, 1] });
    if (r.code !== 0) return { up: false, latest_handshake: 0 };
    const seconds = Number(r.stdout.trim().split(/\s+/)[1] ?? 0);
    return { up: true, latest_handshake: Number.isFinite(seconds) ? seconds : 0 };
  },
});

/**
 * Write broker-allocation.json (0640 root:blockhost) after a request or renewal. It is the broker
 * peer's and the prefix's scope, so after setup only root may change the peer or the prefix.
 */
export const brokerAllocationWrite = defineAction({
  name: "broker-allocation-write",
  params: object({ allocation: brokerAllocationSchema }),
  timeoutMs: 10_000,
  handler: async (p, ctx) => {
    requireBrokerRenewal(p.allocation, ctx.peer);
    ensureDirUnder(paths.root, paths.configDir);
    writeFileAtomic(paths.brokerAllocation, `${JSON.stringify(p.allocation, null, 2)}\n`, {
      mode: 0o640,
      blockhostGroup: true,
    });
    return { file: paths.brokerAllocation };
  },
});

/** Remove broker-allocation.json (`blockhost broker release`); one that is already gone is `{removed: false}`. */
export const brokerAllocationDelete = defineAction({
  name: "broker-allocation-delete",
  params: object({}),
  timeoutMs: 10_000,
  handler: async () => {
    const had = existsSync(paths.brokerAllocation);
    rmSync(paths.brokerAllocation, { force: true });
    return { removed: had };
  },
});
