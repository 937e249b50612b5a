# Test double of procd's shell API (/lib/functions/procd.sh): every call is
# recorded in /var/log/calls, and a small model of procd is kept in
# /var/run/procd/<service>: the command line of its running instance.
# Like procd, `service set` with the same command leaves the instance alone,
# with another command restarts it, with none stops it. The daemon applies
# its rules when it starts: a started instance loads the nft table.

_record() {
	(IFS="$(printf '\t')"; echo "$*") >> /var/log/calls
}

procd_lock() { :; }

procd_open_service() {
	_procd_service=$1
	_procd_command=
	_record procd_open_service "$@"
}

procd_open_instance() { _record procd_open_instance "$@"; }

procd_set_param() {
	_record procd_set_param "$@"
	if [ "$1" = command ]; then
		shift
		_procd_command="$*"
	fi
}

procd_close_instance() { _record procd_close_instance; }

procd_close_service() {
	local state="/var/run/procd/$_procd_service"

	service_triggers
	_record procd_close_service "$@"
	mkdir -p /var/run/procd
	if [ -z "$_procd_command" ]; then
		[ -f "$state" ] && rm -f "$state" && _record procd:stopped "$_procd_service"
	elif [ "$(cat "$state" 2>/dev/null)" != "$_procd_command" ]; then
		echo "$_procd_command" > "$state"
		_record procd:started "$_procd_service" "$_procd_command"
		mkdir -p /var/state/nft && touch /var/state/nft/vpn_passthrough
	fi
	return 0
}

procd_add_reload_trigger() {
	local config

	for config in "$@"; do
		_record procd:trigger config.change "$config" reload
	done
}

procd_add_reload_interface_trigger() { _record procd:trigger interface "$1" reload; }

procd_running() { [ -f "/var/run/procd/$1" ]; }

procd_kill() {
	_record procd_kill "$@"
	[ -f "/var/run/procd/$1" ] && rm -f "/var/run/procd/$1" && _record procd:stopped "$1"
	return 0
}

procd_send_signal() { _record procd_send_signal "$@"; }
