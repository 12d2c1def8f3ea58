#!/bin/sh
# mmdebstrap --customize-hook for the ISO's target image: runs on the build host after the packages are installed.
# $1 the image's root, $2 the cache directory receiving the kernel, its initramfs, its modules index and the
# manifest inputs. Whatever is host-specific (machine id, SSH host keys, fstab) the installer writes per disk.
set -eu
root="$1"
out="$2"

chroot "$root" dpkg-query -W -f '${Package}\t${Version}\n' >"$out/packages.tsv"
cp "$root/var/lib/dpkg/status" "$out/dpkg-status"
# What the mirror served: the snapshot date of each suite (snapshot.debian.org reproduces it).
for f in "$root"/var/lib/apt/lists/*_InRelease; do
	printf '%s\t%s\n' "$(sed -n 's/^Codename: //p' "$f")" "$(sed -n 's/^Date: //p' "$f")"
done >"$out/suites.tsv"

rm -f "$root"/etc/ssh/ssh_host_*
: >"$root/etc/machine-id"
echo blockhost >"$root/etc/hostname"
mkdir -p "$root/etc/systemd/network"
cat >"$root/etc/systemd/network/50-blockhost-dhcp.network" <<'NET'
# Written by the BlockHost installer: every wired interface asks DHCP until the wizard sets the host's network.
[Match]
Type=ether
Name=en* eth*

[Network]
DHCP=yes
NET
chroot "$root" systemctl enable systemd-networkd.service systemd-resolved.service

# The live system boots the target's own kernel and initramfs; scripts/iso/live.ts appends its boot script.
kver=$(ls "$root/lib/modules" | head -n 1)
cp "$root/boot/vmlinuz-$kver" "$out/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$out/initrd.img"
echo "$kver" >"$out/kernel-version"
