/**
 * A libvirt VM port's rate cap as nftables rules: a `bridge` table of its own beside the guard's,
 * one chain per port each way that drops what exceeds the rate (a policer: TCP backs off to it).
 * nftables instead of libvirt's `<bandwidth>`: that needs the sch_sfq qdisc and the act_police tc
 * action, which kernels built without them (minimal VM kernels) lack, while nft's `limit` is part
 * of nf_tables, which the port guard already needs.
 */
import { portMapTable } from "./rules.ts";

export const RATE_TABLE = "blockhost_rate";
const T = `bridge ${RATE_TABLE}`;

/** The skeleton, idempotent: verdict maps (port → its chain) consulted by one base chain each way. */
export function rateBase(): string[] {
  return portMapTable(RATE_TABLE, -250);
}

/** Cap `port` at `bytesPerS` each way (a burst of one second's worth), or lift the cap with 0. */
export function setPortRate(port: string, bytesPerS: number): string[] {
  const from = `from_${port}`;
  const to = `to_${port}`;
  const lift = [
    `add chain ${T} ${from}`,
    `add chain ${T} ${to}`,
    `add element ${T} from_ports { "${port}" : jump ${from} }`,
    `add element ${T} to_ports { "${port}" : jump ${to} }`,
    `delete element ${T} from_ports { "${port}" }`,
    `delete element ${T} to_ports { "${port}" }`,
    `delete chain ${T} ${from}`,
    `delete chain ${T} ${to}`,
  ];
  if (bytesPerS === 0) return lift;
  const rule = `limit rate over ${bytesPerS} bytes/second burst ${bytesPerS} bytes drop`;
  return [
    ...lift,
    `add chain ${T} ${from}`,
    `add rule ${T} ${from} ${rule}`,
    `add chain ${T} ${to}`,
    `add rule ${T} ${to} ${rule}`,
    `add element ${T} from_ports { "${port}" : jump ${from} }`,
    `add element ${T} to_ports { "${port}" : jump ${to} }`,
  ];
}
