/** The operating systems a template can be built from, and which template serves a VM of a given OS. */
import { basename, dirname, join } from "node:path";
import { BlockhostError } from "../errors.ts";

/** Each OS id names a Debian suite; the id is what manifests, the engine and the panel speak. */
export const TEMPLATE_OSES = {
  "debian-12": { suite: "bookworm", label: "Debian 12 (bookworm)" },
  "debian-13": { suite: "trixie", label: "Debian 13 (trixie)" },
} as const;

export type OsId = keyof typeof TEMPLATE_OSES;
export const OS_IDS = Object.keys(TEMPLATE_OSES) as OsId[];
/** What a VM gets when nothing names an OS, and what the plain template path holds. */
export const DEFAULT_OS: OsId = "debian-12";

export const isOsId = (v: unknown): v is OsId => typeof v === "string" && Object.hasOwn(TEMPLATE_OSES, v);

/** `v` as an OS id, or a usage error naming the ids there are. */
export function parseOsId(v: string, what = "--os"): OsId {
  if (isOsId(v)) return v;
  throw new BlockhostError("E_USAGE", `${what}: expected one of ${OS_IDS.join(", ")}, got ${JSON.stringify(v)}`);
}

/** The OS id of a Debian suite (a template built with --suite), when it is one we know. */
export function osForSuite(suite: string): OsId | undefined {
  return OS_IDS.find((id) => TEMPLATE_OSES[id].suite === suite);
}

/**
 * The libvirt template image of `os`, given the default OS's image path (blockhost.yaml
 * libvirt.template): the default OS keeps that path, another OS sits beside it as
 * `<name>-<os>.qcow2` (blockhost-template-debian-13.qcow2).
 */
export function libvirtTemplateFor(defaultImage: string, os: OsId = DEFAULT_OS): string {
  if (os === DEFAULT_OS) return defaultImage;
  return join(dirname(defaultImage), `${basename(defaultImage).replace(/\.qcow2$/, "")}-${os}.qcow2`);
}

/** The Proxmox template VMID of `os`: proxmox.template_vmids[os], the default OS's template_vmid otherwise. */
export function proxmoxTemplateFor(
  defaultVmid: number,
  perOs: Partial<Record<OsId, number>> | undefined,
  os: OsId = DEFAULT_OS,
): number {
  const vmid = perOs?.[os] ?? (os === DEFAULT_OS ? defaultVmid : undefined);
  if (vmid === undefined)
    throw new BlockhostError(
      "E_CONFIG_INVALID",
      `no Proxmox template for ${os}: build one (blockhost template build --os ${os} --boot bootloader), import it and set proxmox.template_vmids.${os}`,
    );
  return vmid;
}

/** Where a VM of `os` comes from on the configured backend: what the panel's reinstall asks. */
export interface TemplateChoice {
  os: OsId;
  label: string;
  suite: string;
  /** libvirt: the image path; proxmox: the template VMID. */
  libvirtImage?: string;
  proxmoxVmid?: number;
}

/**
 * The template a VM of `osId` is created from. `backend` carries the configured defaults
 * (blockhost.yaml libvirt.template, proxmox.template_vmid and proxmox.template_vmids).
 */
export function templateFor(
  osId: string,
  backend: { libvirtTemplate?: string; proxmoxVmid?: number; proxmoxVmids?: Partial<Record<OsId, number>> } = {},
): TemplateChoice {
  const os = parseOsId(osId, "os");
  const { suite, label } = TEMPLATE_OSES[os];
  return {
    os,
    label,
    suite,
    ...(backend.libvirtTemplate ? { libvirtImage: libvirtTemplateFor(backend.libvirtTemplate, os) } : {}),
    ...(backend.proxmoxVmid !== undefined
      ? { proxmoxVmid: proxmoxTemplateFor(backend.proxmoxVmid, backend.proxmoxVmids, os) }
      : {}),
  };
}
