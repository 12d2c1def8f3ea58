#!/bin/bash
# The BlockHost installer, run by blockhost-installer.service in the live system on /dev/console.
# Erases ONE disk: the one the operator names and confirms by typing its name, or, unattended, the one
# `blockhost.disk=` names when `blockhost.erase=yes` is also on the kernel command line.
# Then: the ISO's Debian image onto it, the .deb from the ISO's repository (no network), GRUB for BIOS and UEFI.
set -euo pipefail
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive
MEDIUM=/run/blockhost-iso/medium
IMAGE=/run/blockhost-iso/squash
TARGET=/mnt/blockhost-target

say() { printf 'blockhost-installer: %s\n' "$*"; }
fail() {
	say "FAILED: $*"
	say "nothing is installed; a shell follows (poweroff to stop)"
	exec /bin/bash -l
}
trap 'fail "line $LINENO: $BASH_COMMAND"' ERR

DISK="" ERASE="" AFTER=reboot CONSOLES=()
for word in $(cat /proc/cmdline); do
	case "$word" in
	blockhost.disk=*) DISK="${word#blockhost.disk=}" ;;
	blockhost.erase=*) ERASE="${word#blockhost.erase=}" ;;
	blockhost.after=*) AFTER="${word#blockhost.after=}" ;;
	console=*) CONSOLES+=("$word") ;;
	esac
done

udevadm settle --timeout=30 || true
# Never offered: the medium we booted from (and its parent disk), read-only devices, loop and CD devices.
medium=$(findmnt -no SOURCE "$MEDIUM")
medium_disk=$(lsblk -dnpo PKNAME "$medium" 2>/dev/null || true)
candidates() {
	lsblk -dnpo NAME,TYPE,RO | while read -r name type ro; do
		[ "$type" = disk ] && [ "$ro" = 0 ] || continue
		[ "$name" = "$medium" ] || [ "$name" = "$medium_disk" ] && continue
		echo "$name"
	done
}
describe() { lsblk -dno SIZE,MODEL "$1" | tr -s ' '; }

say "BlockHost $(cat "$MEDIUM/blockhost/version") installer ($(. /etc/os-release && echo "$PRETTY_NAME"))"
mapfile -t DISKS < <(candidates)
[ "${#DISKS[@]}" -gt 0 ] || fail "no disk to install on"
say "disks:"
for d in "${DISKS[@]}"; do say "  $d  $(describe "$d")"; done

if [ -z "$DISK" ]; then
	read -r -p "Disk to install BlockHost on (ERASES IT), e.g. ${DISKS[0]}: " DISK
fi
DISK=$(readlink -f "$DISK")
printf '%s\n' "${DISKS[@]}" | grep -qxF "$DISK" || fail "$DISK is not one of the disks above"
if [ "$ERASE" = yes ]; then
	say "unattended: erasing $DISK ($(describe "$DISK")) as blockhost.erase=yes asks"
else
	say "EVERYTHING on $DISK ($(describe "$DISK")) will be erased."
	read -r -p "Type the disk's name ($DISK) to erase it, anything else to stop: " typed
	[ "$typed" = "$DISK" ] || fail "not confirmed: $DISK is untouched"
	while :; do
		read -r -s -p "Root password (empty: root stays locked): " pw1 && echo
		[ -z "$pw1" ] && break
		read -r -s -p "Again: " pw2 && echo
		[ "$pw1" = "$pw2" ] && break
		say "the two passwords differ"
	done
fi

say "partitioning $DISK (GPT: BIOS boot, EFI system, root)"
sfdisk --quiet --wipe always --wipe-partitions always "$DISK" <<'GPT'
label: gpt
size=1MiB, type=21686148-6449-6E6F-744E-656564454649, name=bios
size=512MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=esp
type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root
GPT
udevadm settle --timeout=30 || true
mapfile -t PARTS < <(lsblk -lnpo NAME,TYPE "$DISK" | awk '$2 == "part" { print $1 }')
ESP="${PARTS[1]}" ROOT="${PARTS[2]}"
mkfs.vfat -F 32 -n EFI "$ESP" >/dev/null
mkfs.ext4 -q -F -L blockhost-root "$ROOT"
mkdir -p "$TARGET"
mount "$ROOT" "$TARGET"
mkdir -p "$TARGET/boot/efi"
mount "$ESP" "$TARGET/boot/efi"

say "copying the system ($(du -sh --apparent-size "$IMAGE" 2>/dev/null | cut -f1 || echo '?'))"
started=$SECONDS
cp -a "$IMAGE/." "$TARGET/"
say "copied in $((SECONDS - started)) s"

cat >"$TARGET/etc/fstab" <<FSTAB
UUID=$(blkid -s UUID -o value "$ROOT") / ext4 errors=remount-ro 0 1
UUID=$(blkid -s UUID -o value "$ESP") /boot/efi vfat umask=0077,nofail,x-systemd.device-timeout=10min 0 1
FSTAB
# nofail: only GRUB's updates need the ESP; a slow udev (a loaded or emulated machine) must not drop the boot
# into emergency mode, away from the wizard.
echo blockhost >"$TARGET/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tblockhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$TARGET/etc/hosts"
od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$TARGET/etc/machine-id"
echo >>"$TARGET/etc/machine-id"
ln -sf ../run/systemd/resolve/stub-resolv.conf "$TARGET/etc/resolv.conf"
# VMs join the host's LAN through a bridge (the wizard's hypervisor step needs one): br0 over the first wired
# NIC, with that NIC's MAC so a DHCP reservation still holds. Only that NIC: two on one LAN would loop.
uplink=""
for dev in /sys/class/net/*; do
	name="${dev##*/}"
	[ -e "$dev/device" ] && [ ! -d "$dev/wireless" ] || continue
	case "$name" in en* | eth*) uplink="$name" && break ;; esac
done
if [ -n "$uplink" ]; then
	mac=$(cat "/sys/class/net/$uplink/address")
	net="$TARGET/etc/systemd/network"
	printf '[NetDev]\nName=br0\nKind=bridge\nMACAddress=%s\n' "$mac" >"$net/10-blockhost-br0.netdev"
	printf '[Match]\nType=ether\nMACAddress=%s\n\n[Network]\nBridge=br0\n' "$mac" >"$net/20-blockhost-uplink.network"
	# routable: network-online.target (the wizard's start) waits for the DHCP address the console's URL shows.
	printf '[Match]\nName=br0\n\n[Link]\nRequiredForOnline=routable\n\n[Network]\nDHCP=yes\n' >"$net/30-blockhost-br0.network"
	rm -f "$net/50-blockhost-dhcp.network"
	say "network: br0 over $uplink ($mac), DHCP"
fi

mount --rbind /dev "$TARGET/dev"
mount --make-rslave "$TARGET/dev"
mount -t proc proc "$TARGET/proc"
mount -t sysfs sysfs "$TARGET/sys"
# A fresh /run: the packages' scripts must not see (and start units in) the live system's systemd.
mount -t tmpfs tmpfs "$TARGET/run"
mkdir -p "$TARGET/media/blockhost-iso"
mount --bind "$MEDIUM" "$TARGET/media/blockhost-iso"
in_target() { chroot "$TARGET" "$@"; }

in_target ssh-keygen -A >/dev/null
say "installing blockhost from the ISO's repository (offline)"
mkdir -p "$TARGET/tmp/iso-apt/lists/partial"
echo 'deb [trusted=yes] file:/media/blockhost-iso/pool ./' >"$TARGET/tmp/iso-apt/sources.list"
APT=(apt-get -q -o Dir::Etc::SourceList=/tmp/iso-apt/sources.list -o Dir::Etc::SourceParts=/nonexistent
	-o Dir::State::Lists=/tmp/iso-apt/lists -o Acquire::Languages=none
	-o Dpkg::Options::=--force-unsafe-io) # one sync at the end instead of one per file
in_target "${APT[@]}" update >/dev/null
in_target "${APT[@]}" install -y --no-install-recommends blockhost
rm -rf "$TARGET/tmp/iso-apt"

say "installing GRUB for BIOS and UEFI on $DISK"
if [ "${#CONSOLES[@]}" -gt 0 ]; then
	sed -i "s|^GRUB_CMDLINE_LINUX=.*|GRUB_CMDLINE_LINUX=\"${CONSOLES[*]}\"|" "$TARGET/etc/default/grub"
fi
case " ${CONSOLES[*]} " in
*" console=ttyS0"*)
	# Installed over a serial console: GRUB's menu and the boot's messages go there too (IPMI SOL, tests).
	cat >>"$TARGET/etc/default/grub" <<'GRUB'
GRUB_TERMINAL="console serial"
GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"
GRUB_CMDLINE_LINUX_DEFAULT=""
GRUB
	;;
esac
in_target grub-install --target=i386-pc "$DISK"
in_target grub-install --target=x86_64-efi --efi-directory=/boot/efi --removable --no-nvram
in_target update-grub
by_id=$(find /dev/disk/by-id -lname "*/$(basename "$DISK")" 2>/dev/null | head -n 1)
echo "grub-pc grub-pc/install_devices multiselect ${by_id:-$DISK}" | in_target debconf-set-selections

if [ -n "${pw1:-}" ]; then
	printf 'root:%s\n' "$pw1" | in_target chpasswd
else
	in_target passwd -l root >/dev/null
fi

sync
umount -R "$TARGET"
say "BLOCKHOST-INSTALL-COMPLETE on $DISK: remove the medium; first boot shows the setup wizard's address and code"
# The disk is synced and unmounted and the live system holds nothing worth saving (read-only medium, tmpfs
# overlay): restart at once rather than through the live system's shutdown, which under emulation can take
# minutes waiting for udev workers and lazy unmounts of the medium.
case "$AFTER" in
poweroff) systemctl poweroff --force --force ;;
*) systemctl reboot --force --force ;;
esac
