#!/bin/sh
# Installs the Debian tools the tests use (real nft, conntrack, ip, VPN
# peers) when they are missing. Needs root and apt-get, as on CI; otherwise
# it names what is missing and stops.

set -u

# command-path:debian-package
NEEDED="
/usr/sbin/nft:nftables
/usr/sbin/conntrack:conntrack
/usr/sbin/ip:iproute2
/usr/bin/iperf3:iperf3
/usr/lib/ipsec/charon:strongswan-charon
/usr/sbin/swanctl:strongswan-swanctl
/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so:libcharon-extra-plugins
/usr/sbin/xl2tpd:xl2tpd
/usr/sbin/pptpd:pptpd
/usr/bin/unshare:util-linux
/usr/bin/mount:mount
/usr/sbin/sysctl:procps
/usr/bin/ping:iputils-ping
/usr/bin/python3:python3
/bin/busybox:busybox-static
"

missing=""
for entry in $NEEDED; do
	path=${entry%%:*}
	pkg=${entry#*:}
	[ -e "$path" ] || missing="$missing $pkg"
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "make test: these Debian packages are missing:$missing" >&2
	echo "make test: install them as root (apt-get install$missing), or run make test as root on Debian/Ubuntu" >&2
	exit 1
fi

echo "make test: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Package scripts must not start system services (strongSwan, xl2tpd) on
# this machine: the tests start their own, inside network namespaces.
policy=/usr/sbin/policy-rc.d
created_policy=""
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && created_policy=1
fi
status=0
{ apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing; } >/dev/null || status=$?
[ -n "$created_policy" ] && rm -f "$policy"
if [ "$status" != 0 ]; then
	echo "make test: apt-get install$missing failed (status $status)" >&2
	exit 1
fi
