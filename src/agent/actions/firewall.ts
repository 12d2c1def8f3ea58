/** Agent actions: INPUT-chain ACCEPT rules (the admin port knock). */
import { isIPv4, isIPv6 } from "node:net";
import { schemaError, literal, object, optional, refine, str, type Schema } from "../../core/schema.ts";
import { COMMENT_RE, port } from "../../core/validators.ts";
import type { BinaryName } from "../binaries.ts";
import { defineAction, type ActionContext } from "./types.ts";

/** INPUT-chain ACCEPT rules (the admin port knock). IPv6 sources go to ip6tables. */

const cidr = (addr: string, len: string | undefined, max: number) =>
  len === undefined || (/^\d{1,3}$/.test(len) && Number(len) <= max && (max === 32 ? isIPv4(addr) : isIPv6(addr)));
const SOURCE = "an IPv4 or IPv6 address or network (CIDR)";
const source: Schema<string> = {
  describe: SOURCE,
  parse(v, path = "") {
    const s = str(/^[0-9a-fA-F:.]{2,39}(\/\d{1,3})?$/, SOURCE, 43).parse(v, path);
    const [addr, len] = s.split("/") as [string, string | undefined];
    if ((isIPv4(addr) && cidr(addr, len, 32)) || (isIPv6(addr) && cidr(addr, len, 128))) return s;
    throw schemaError(path, SOURCE);
  },
};

const ruleParams = object({
  port,
  proto: optional(literal("tcp", "udp")),
  comment: refine(
    str(COMMENT_RE, "a comment of letters, digits and - (≤64)", 64),
    "a comment starting with a letter or digit",
    (c) => !c.startsWith("-"),
  ),
  source: optional(source),
});
type RuleParams = { port: number; proto?: "tcp" | "udp"; comment: string; source?: string };

function rule(p: RuleParams): { binary: BinaryName; spec: string[] } {
  const binary: BinaryName = p.source && isIPv6(p.source.split("/")[0]!) ? "ip6tables" : "iptables";
  const spec = [
    "INPUT",
    "-p",
    p.proto ?? "tcp",
    ...(p.source ? ["-s", p.source] : []),
    "--dport",
    String(p.port),
    "-j",
    "ACCEPT",
    "-m",
    "comment",
    "--comment",
    p.comment,
  ];
  return { binary, spec };
}

/** `-w` waits for the xtables lock instead of failing when another process holds it. */
async function exists(ctx: ActionContext, binary: BinaryName, spec: string[]): Promise<boolean> {
  const { code } = await ctx.run(binary, ["-w", "10", "-C", ...spec], { okCodes: [0, 1] });
  return code === 0;
}

/**
 * `iptables -I INPUT 1 -p P [-s SRC] --dport N -j ACCEPT -m comment --comment C`, unless already there.
 * Inserted first, so it takes precedence over a default-deny DROP for the port (iptables-deny).
 */
export const iptablesOpen = defineAction({
  name: "iptables-open",
  params: ruleParams,
  timeoutMs: 30_000,
  handler: async (p, ctx) => {
    const { binary, spec } = rule(p);
    if (await exists(ctx, binary, spec)) return { added: false };
    await ctx.run(binary, ["-w", "10", "-I", "INPUT", "1", ...spec.slice(1)]);
    return { added: true };
  },
});

/** The matching `-D`; a rule that is not there is `{removed: false}`. */
export const iptablesClose = defineAction({
  name: "iptables-close",
  params: ruleParams,
  timeoutMs: 30_000,
  handler: async (p, ctx) => {
    const { binary, spec } = rule(p);
    if (!(await exists(ctx, binary, spec))) return { removed: false };
    await ctx.run(binary, ["-w", "10", "-D", ...spec]);
    return { removed: true };
  },
});

const denyParams = object({ port, proto: optional(literal("tcp", "udp")), family: optional(literal("ipv4", "ipv6")) });
const DENY_COMMENT = "blockhost-deny";

function denySpec(p: { port: number; proto?: "tcp" | "udp"; family?: "ipv4" | "ipv6" }): {
  binary: BinaryName;
  spec: string[];
} {
  const binary: BinaryName = p.family === "ipv6" ? "ip6tables" : "iptables";
  const spec = [
    "INPUT",
    "-p",
    p.proto ?? "tcp",
    "--dport",
    String(p.port),
    "-m",
    "conntrack",
    "--ctstate",
    "NEW",
    "-j",
    "DROP",
    "-m",
    "comment",
    "--comment",
    DENY_COMMENT,
  ];
  return { binary, spec };
}

/**
 * The knock's optional default deny: append a DROP for NEW connections to one port (established
 * sessions keep working), so only knock rules (inserted before it) admit new ones.
 */
export const iptablesDeny = defineAction({
  name: "iptables-deny",
  params: denyParams,
  timeoutMs: 30_000,
  handler: async (p, ctx) => {
    const { binary, spec } = denySpec(p);
    if (await exists(ctx, binary, spec)) return { added: false };
    await ctx.run(binary, ["-w", "10", "-A", ...spec]);
    return { added: true };
  },
});

/** Remove the default-deny DROP for one port. */
export const iptablesUndeny = defineAction({
  name: "iptables-undeny",
  params: denyParams,
  timeoutMs: 30_000,
  handler: async (p, ctx) => {
    const { binary, spec } = denySpec(p);
    if (!(await exists(ctx, binary, spec))) return { removed: false };
    await ctx.run(binary, ["-w", "10", "-D", ...spec]);
    return { removed: true };
  },
});
