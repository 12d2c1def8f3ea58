/** Step `https`: a self-signed certificate naming the host, and https.json for `serve` (with its ACME settings). */
import { networkInterfaces, hostname as osHostname } from "node:os";
import { paths } from "../../core/paths.ts";
import { readBrokerAllocation } from "../../core/config/broker-allocation.ts";
import { parseHostPrefix } from "../../network/prefix-host.ts";
import type { SetupContext } from "../context.ts";
import { writeConfig, type SetupStep } from "./types.ts";

/**
 * https.hostname; else, with a public IPv6 prefix (manual, or the broker's saved by the ipv6 step),
 * the host's own `prefix::2` (as the original); else the first non-loopback IPv4 address, else the host name.
 */
export function hostAddress(ctx: SetupContext): string {
  if (ctx.file.https.hostname) return ctx.file.https.hostname;
  const v6 = ctx.file.network.ipv6;
  const prefix = v6 === "none" ? undefined : "manual" in v6 ? v6.manual : readBrokerAllocation()?.prefix;
  if (prefix) return parseHostPrefix(prefix).hostAddress;
  const v4 = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === "IPv4" && !a.internal);
  return v4?.address ?? osHostname();
}

export const https: SetupStep = {
  name: "https",
  title: "HTTPS certificate",
  async run(ctx) {
    const hostname = hostAddress(ctx);
    const tls = await ctx.agent.call("tls-self-signed", { hostname });
    const acme = ctx.file.https.acme;
    const config = {
      hostname,
      cert_file: paths.tlsCert,
      key_file: paths.tlsKey,
      self_signed: true,
      ...(acme ? { acme } : {}),
    };
    await writeConfig(ctx, "https.json", `${JSON.stringify(config, null, 2)}\n`);
    return { hostname, generated: tls.generated };
  },
};
