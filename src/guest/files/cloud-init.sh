#!/bin/sh
# /usr/bin/cloud-init: written by blockhost template build. This VM has no cloud-init:
# blockhost-firstboot.service configures it from the same NoCloud seed. This stand-in answers
# what scripts ask of cloud-init: `cloud-init status [--wait] [--long] [--format json]`.
# Exit codes as cloud-init's: 0 done or running, 1 error.
status_file=/run/blockhost-guest/status
state() {
	if [ -r "$status_file" ]; then sed -n 1p "$status_file"; else echo running; fi
}
case "$1" in
status) shift ;;
--version | -v)
	echo "/usr/bin/cloud-init stand-in (blockhost-firstboot)"
	exit 0
	;;
*)
	echo "cloud-init: only 'cloud-init status [--wait] [--long] [--format json]' is provided: this VM is configured by blockhost-firstboot.service" >&2
	exit 2
	;;
esac
wait=0 long=0 json=0
while [ $# -gt 0 ]; do
	case "$1" in
	-w | --wait) wait=1 ;;
	-l | --long) long=1 ;;
	--format=json) json=1 ;;
	--format)
		shift
		[ "$1" = json ] && json=1
		;;
	esac
	shift
done
s=$(state)
if [ "$wait" = 1 ] && [ "$s" = running ]; then
	while [ "$s" = running ]; do
		[ "$json" = 1 ] || printf .
		sleep 1
		s=$(state)
	done
	[ "$json" = 1 ] || echo
fi
detail=$(sed -n 2p "$status_file" 2>/dev/null | tr -d '"\\')
if [ "$json" = 1 ]; then
	printf '{"status": "%s", "extended_status": "%s", "detail": "%s"}\n' "$s" "$s" "$detail"
else
	echo "status: $s"
	[ "$long" = 1 ] && echo "detail: $detail"
fi
[ "$s" = error ] && exit 1
exit 0
