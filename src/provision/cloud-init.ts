/** Render a VM's cloud-init user data, network config and ipconfig. */
import { stringify as toToml } from "smol-toml";
import { stringify as toYaml } from "yaml";
import { VM_AUTH_FILES } from "../vmauth/files/index.ts";
import { vmLoginIdentity } from "../vmauth/otp.ts";
import { macForVmid, type Allocation } from "./allocate.ts";
import { gecosFor } from "../core/gecos.ts";

/** Everything a VM's first boot needs to know. `secretKey` is per VM (32 random bytes, hex). */
export interface CloudInitInput {
  name: string;
  username: string;
  walletAddress: string;
  nftTokenId: number | null;
  allocation: Allocation;
  secretKey: string;
  otpLength: number;
  otpTtlSeconds: number;
  sshKeys?: string[];
  /** Resolvers for the guest's /etc/resolv.conf (IPv4 and/or IPv6). */
  nameservers: string[];
}

export interface CloudInit {
  /** `#cloud-config` user data (holds the VM secret: write it 0600). */
  userData: string;
  /** Network-config v2 for a NoCloud seed (matched by the VM's MAC, named eth0). */
  networkConfig: string;
  /** Proxmox `ipconfig0` for the same addresses. */
  ipconfig0: string;
  /** The resolvers in networkConfig (Proxmox puts `--nameserver` into its own network-config). */
  nameservers: string[];
}

const YAML_OPTIONS = { lineWidth: 0 } as const;
/** Stands for the wallet-login files in the rendered list, replaced by their YAML rendered once. */
const VM_AUTH_MARK = "blockhost-vm-auth-files";

/**
 * The wallet-login files as `write_files` list items: the same for every VM and most of the
 * document, so they are rendered once per process instead of once per purchase.
 */
let vmAuthItems: string | null = null;
function vmAuthFileItems(): string {
  if (vmAuthItems === null) {
    // PAM stack, sshd drop-in (keyboard-interactive only), signing-page unit, tmpfiles: from vmauth.
    // The template already holds them with the signing page enabled (no runcmd: under TCG every
    // `systemctl daemon-reload` or restart in the guest delays the first login by seconds).
    const files = VM_AUTH_FILES.map((f) => ({
      path: f.path,
      permissions: `0${f.mode.toString(8)}`,
      content: f.content,
    }));
    vmAuthItems = toYaml({ write_files: files }, YAML_OPTIONS).replace(/^write_files:\n/, "");
  }
  return vmAuthItems;
}

/** Render the user-data, network-config and Proxmox ipconfig for one VM. */
export function renderCloudInit(input: CloudInitInput): CloudInit {
  const a = input.allocation;
  const loginConfig = toToml({
    // The login identity in the signed text: random per VM (from its secret), never the reusable VM name.
    machine: { id: vmLoginIdentity(input.secretKey), secret_key: input.secretKey },
    auth: { otp_length: input.otpLength, otp_ttl_seconds: input.otpTtlSeconds },
  });
  const cloudConfig = toYaml(
    {
      hostname: input.name,
      manage_etc_hosts: true,
      ssh_pwauth: false,
      users: [
        {
          name: input.username,
          gecos: gecosFor(input.walletAddress, input.nftTokenId),
          groups: ["sudo"],
          sudo: "ALL=(ALL) NOPASSWD:ALL",
          shell: "/bin/bash",
          lock_passwd: true,
          ...(input.sshKeys?.length ? { ssh_authorized_keys: input.sshKeys } : {}),
        },
      ],
      write_files: [
        { path: "/etc/pam_web3/config.toml", permissions: "0600", owner: "root:root", content: loginConfig },
        VM_AUTH_MARK,
      ],
    },
    YAML_OPTIONS,
  );
  // write_files is the last key, so its items sit at the same indent in both renderings.
  const userData = `#cloud-config\n${cloudConfig.replace(`  - ${VM_AUTH_MARK}\n`, vmAuthFileItems())}`;
  // The form cloud-init 22.4 (Debian 12) converts with its ENI, networkd and netplan renderers:
  // `to: default` routes are refused there, and without match/set-name the NIC would be named "primary".
  const ethernet: Record<string, unknown> = {
    match: { macaddress: macForVmid(a.vmid) },
    "set-name": "eth0",
    addresses: [`${a.ipv4}/${a.ipv4Bits}`, ...(a.ipv6 ? [`${a.ipv6}/128`] : [])],
    gateway4: a.gateway,
    ...(a.ipv6 && a.ipv6Gateway ? { gateway6: a.ipv6Gateway } : {}),
    nameservers: { addresses: input.nameservers },
  };
  const networkConfig = toYaml({ version: 2, ethernets: { eth0: ethernet } });
  const ipconfig0 = [
    `ip=${a.ipv4}/${a.ipv4Bits}`,
    `gw=${a.gateway}`,
    ...(a.ipv6 ? [`ip6=${a.ipv6}/128`, `gw6=${a.ipv6Gateway}`] : []),
  ].join(",");
  return { userData, networkConfig, ipconfig0, nameservers: input.nameservers };
}
