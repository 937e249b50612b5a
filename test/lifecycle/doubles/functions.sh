# Test double of OpenWrt's /lib/functions.sh (openwrt/openwrt:
# package/base-files/files/lib/functions.sh): the maintainer-script part,
# default_postinst and default_prerm, step for step as OpenWrt runs them,
# without users/groups, alternatives and kernel modules (our packages have
# none).

list_contains() {
	local var="$1" str="$2" val

	eval "val=\" \${$var} \""
	[ "${val%% $str *}" != "$val" ]
}

add_group_and_user() { :; }

# The package's file list: opkg's, or apk's (OpenWrt 25).
_filelist() {
	if [ -f "$root/lib/apk/packages/$pkgname.list" ]; then
		echo "$root/lib/apk/packages/$pkgname.list"
	else
		echo "$root/usr/lib/opkg/info/$pkgname.list"
	fi
}

default_postinst() {
	local root="${IPKG_INSTROOT}"
	[ -z "$pkgname" ] && local pkgname="$(basename "${1%.*}")"
	local filelist="$(_filelist)" ret=0 i

	if [ -z "$root" ]; then
		if grep -m1 -q -s "^/etc/uci-defaults/" "$filelist"; then
			[ -d /tmp/.uci ] || mkdir -p /tmp/.uci
			for i in $(grep -s "^/etc/uci-defaults/" "$filelist"); do
				( [ -f "$i" ] && cd "$(dirname "$i")" && . "$i" ) && rm -f "$i"
			done
			uci commit
		fi
		rm -f /tmp/luci-indexcache.*
	fi

	if [ -f "$root/usr/lib/opkg/info/$pkgname.postinst-pkg" ]; then
		( . "$root/usr/lib/opkg/info/$pkgname.postinst-pkg" )
		ret=$?
	fi

	for i in $(grep -s "^/etc/init.d/" "$filelist"); do
		if [ -n "$root" ]; then
			/bin/sh "$root/etc/rc.common" "$root$i" enable
		else
			[ "$PKG_UPGRADE" != 1 ] && "$i" enable
			"$i" start
		fi
	done

	return $ret
}

default_prerm() {
	local root="${IPKG_INSTROOT}"
	[ -z "$pkgname" ] && local pkgname="$(basename "${1%.*}")"
	local filelist="$(_filelist)" ret=0 i

	if [ -f "$root/usr/lib/opkg/info/$pkgname.prerm-pkg" ]; then
		( . "$root/usr/lib/opkg/info/$pkgname.prerm-pkg" )
		ret=$?
	fi

	for i in $(grep -s "^/etc/init.d/" "$filelist"); do
		if [ -n "$root" ]; then
			/bin/sh "$root/etc/rc.common" "$root$i" disable
		else
			[ "$PKG_UPGRADE" != 1 ] && "$i" disable
			"$i" stop
		fi
	done

	return $ret
}
