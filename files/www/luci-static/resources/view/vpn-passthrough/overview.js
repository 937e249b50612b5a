'use strict';
'require view';
'require dom';
'require form';
'require network';
'require poll';
'require rpc';
'require uci';
'require ui';

// Network > VPN Passthrough. Settings are a form.Map over
// /etc/config/vpn-passthrough (Save & Apply with LuCI's rollback); status
// and sessions come from the daemon's ubus object, refreshed by poll. The
// daemon sends diagnostic codes; this page words them (known codes below).
// VPN servers behind the router are edited in a dialog through the daemon
// (check_server, then set_server), which checks a server against the router
// before anything is written, so the dialog shows the same diagnostics.

const callStatus = rpc.declare({ object: 'vpn-passthrough', method: 'status', expect: { '': {} } });
const callSessions = rpc.declare({ object: 'vpn-passthrough', method: 'sessions', expect: { '': {} } });
// The daemon refuses with an error status AND data saying why ({error,
// diagnostics}); rpc.js then hands over the data (with reject: true it
// would throw "failed with ubus code N" and drop it), or the bare status
// when there is none. So the calls that change things are declared without
// reject and their replies read by refusal() below.
const callSet = rpc.declare({ object: 'vpn-passthrough', method: 'set', params: [ 'protocol', 'enabled' ] });
const callApply = rpc.declare({ object: 'vpn-passthrough', method: 'apply' });
const SERVER_PARAMS = [ 'name', 'enabled', 'protocol', 'host', 'host6', 'allow' ];
const callCheckServer = rpc.declare({ object: 'vpn-passthrough', method: 'check_server', params: SERVER_PARAMS, expect: { '': {} } });
const callSetServer = rpc.declare({ object: 'vpn-passthrough', method: 'set_server', params: SERVER_PARAMS });
const callDeleteServer = rpc.declare({ object: 'vpn-passthrough', method: 'delete_server', params: [ 'name' ] });
const callProbe = rpc.declare({ object: 'vpn-passthrough', method: 'probe', params: [ 'server', 'protocol', 'host' ] });

const PROTOCOLS = [ 'pptp', 'l2tp', 'ipsec' ];

/** A refused call's reply ({error, diagnostics?}), or null when it did its work. */
function refusal(reply) {
	if (typeof reply == 'number')
		return reply != 0 ? { error: _('The service refused (ubus status %d).').format(reply) } : null;

	return (L.isObject(reply) && typeof reply.error == 'string') ? reply : null;
}

/** A thrown error's message without the stack trace LuCI's L.raise() appends to it. */
function errorText(e) {
	return String((e && e.message) || e).split('\n')[0];
}

function protocolTitle(name) {
	return { pptp: _('PPTP'), l2tp: _('L2TP'), ipsec: _('IPsec') }[name] || name;
}

function protocolCovers(name) {
	return {
		pptp: _('PPTP: control TCP 1723 and GRE (IP protocol 47).'),
		l2tp: _('L2TP: UDP 1701. L2TP/IPsec also needs IPsec.'),
		ipsec: _('IPsec: IKE UDP 500, NAT-T UDP 4500, ESP, AH.')
	}[name];
}

// The daemon's diagnostic codes, worded here; unknown codes show its message.
const DIAGNOSTICS = {
	config_missing: () => _('/etc/config/vpn-passthrough is missing: every VPN protocol passes.'),
	uci_syntax: (d) => _('The configuration cannot be read: %s').format(d.message),
	firewall_config_missing: () => _('/etc/config/firewall is missing: the lan and wan zones cannot be found.'),
	invalid_bool: () => _('must be 1 (on) or 0 (off).'),
	invalid_family: () => _('must be any, ipv4 or ipv6.'),
	invalid_host: () => _('is not an IPv4/IPv6 address, subnet or MAC address.'),
	host_bits_set: () => _('has host bits set beyond its prefix length.'),
	host_family_mismatch: () => _('does not match the IP family of this protocol: it never passes.'),
	not_a_list: () => _('must be a single value, not a list.'),
	unknown_option: () => _('is not a known option; it is ignored.'),
	unknown_section: () => _('is not a known section; it is ignored.'),
	unknown_protocol: () => _('is not a protocol: name the section pptp, l2tp or ipsec.'),
	duplicate_globals: () => _('only one globals section is read; this one is ignored.'),
	invalid_zone_name: () => _('is not a firewall zone name.'),
	no_zone: () => _('needs at least one firewall zone.'),
	zone_inside_and_outside: () => _('is listed both as inside and as outside zone.'),
	unknown_zone: () => _('is not a zone in /etc/config/firewall.'),
	unknown_network: () => _('lists a network that has no device.'),
	invalid_device: () => _('has a device that nftables cannot match; it is ignored.'),
	zone_without_devices: () => _('has no devices yet (is the interface up?): nothing of it is matched.'),
	no_inside_devices: () => _('The inside zones have no devices: nothing is passed through or blocked.'),
	no_outside_devices: () => _('The outside zones have no devices: nothing is passed through or blocked.'),
	pptp_helper_missing: () => _('The PPTP helper is missing: install kmod-nf-nathelper-extra. Until then only one inside client can use a given PPTP server.'),
	nft_check_failed: (d) => _('nftables rejected the rules; the previous rules stay in place: %s').format(d.value || d.message),
	nft_failed: (d) => _('nftables failed to load the rules; the previous rules stay in place: %s').format(d.value || d.message),
	statedir_unwritable: (d) => _('The state directory cannot be written: %s').format(d.message),
	config_write_failed: (d) => _('The configuration could not be saved: %s').format(d.message),
	uci_write_failed: (d) => _('The configuration could not be saved: %s').format(d.message),
	offload_needs_conntrack: () => _('Flow offloading is on: established flows of a disabled protocol keep passing until they go idle. Install the conntrack package so they are cut at once.'),
	conntrack_unavailable: () => _('The connection tracking table cannot be read: install the conntrack package.'),
	esp_collision: (d) => _('Inside hosts %s all send raw ESP to the IPsec server %s: through NAT only one of them can work. Make the VPN clients use NAT-T (UDP 4500).').format((d.hosts || []).join(', '), d.value),
	pptp_no_helper: (d) => _('PPTP %s passes without the conntrack helper: only one inside client can use this server at a time. Install kmod-nf-nathelper-extra and apply again.').format(d.value),
	pptp_no_gre: (d) => _('The PPTP control connection %s carries no GRE: the call did not start, or GRE is blocked (clients report error 619).').format(d.value),
	protocol_dropped: (d) => _('%s traffic was dropped since the last apply: it is switched off, or restricted to some families or hosts.').format(protocolTitle(d.value)),
	invalid_argument: (d) => _('Not a valid value: %s').format(d.message),
	invalid_server_protocol: () => _('must be pptp, l2tp (L2TP/IPsec) or ipsec.'),
	server_protocol_missing: () => _('needs a protocol: pptp, l2tp or ipsec.'),
	server_host_missing: () => _('needs the inside server\'s IPv4 address, its IPv6 address, or both.'),
	invalid_server_host: () => _('must be one IPv4 address of the inside server, without a prefix.'),
	invalid_server_host6: () => _('must be one global or ULA IPv6 address of the inside server (not link-local), without a prefix.'),
	invalid_allow: () => _('is not an outside IPv4/IPv6 address or prefix.'),
	server_allow_no_ipv4: () => _('lists only IPv6 sources: nobody reaches the server over IPv4.'),
	server_allow_no_ipv6: () => _('lists only IPv4 sources: nobody reaches the server over IPv6.'),
	server_host_unchecked: () => _('cannot be checked: no inside network has a known subnet of this IP family.'),
	server_host_is_router: () => _('is the router\'s own address: enter the inside host that runs the VPN server.'),
	server_host_not_inside: (d) => _('cannot be the VPN server: %s').format(d.message),
	server_conflict: (d) => _('Two servers need the same ports on the router\'s outside address: %s').format(d.message),
	server_redirect_conflict: (d) => _('A port forward takes the same ports: %s').format(d.message),
	server_port_in_use: (d) => _('A service on the router itself holds these ports: %s').format(d.message),
	server_pptp_helper_missing: () => _('The PPTP helper is missing (install kmod-nf-nathelper-extra): the PPTP server\'s GRE is forwarded by address alone.'),
	server_name_taken: () => _('is already the name of another section: choose another name.'),
	server_not_found: () => _('is not a VPN server.'),
	server_sessions_kept: () => _('Sessions already forwarded to a removed server go on until they are idle: install the conntrack package so they are cut at once.'),
	fw4_hook_missing: () => _('firewall4 has not loaded the rules of vpn-passthrough yet, so it rejects the servers\' traffic: reload the firewall (Network > Firewall, Save & Apply) or reboot.'),
	fw4_auto_includes_off: () => _('The automatic includes of firewall4 are off (auto_includes), so it rejects the servers\' traffic: turn them on and reload the firewall.'),
	fw4_file_unwritable: (d) => _('The servers\' rules for firewall4 could not be saved: %s').format(d.message),
	esp_in_use: (d) => N_((d.hosts || []).length, '%s already sends raw ESP to %s: through NAT only one inside host can. Make the VPN client use NAT-T (UDP 4500).', '%s already send raw ESP to %s: through NAT only one inside host can. Make the VPN client use NAT-T (UDP 4500).').format((d.hosts || []).join(', '), d.value),
	rules_not_loaded: () => _('The rules are not loaded right now: until the service applies them, firewall4 alone decides and VPN traffic passes.'),
	host_not_inside: () => _('This host is not on an inside network of this router: passthrough applies only to hosts inside.'),
	probe_server_inside: () => _('This server is on an inside network: its traffic does not cross to the outside, so passthrough does not apply.')
};

/** A diagnostic about one of the servers (their section shows it). */
function aboutServer(d, servers) {
	return servers.some((v) => d.field == 'vpn-passthrough.' + v.name || (d.field || '').indexOf('vpn-passthrough.' + v.name + '.') == 0) || /^(server_|fw4_)/.test(d.code);
}

// A probe's parts, worded here by their codes (the daemon's words are English).
function exchangeText(x, protocol) {
	const where = '%s %d: '.format(x.transport.toUpperCase(), x.port);
	const r = x.reply || {};
	let said = '';

	if (x.outcome != 'answered')
		return where + ({
			refused: _('refused, nothing listens there'),
			unreachable: _('unreachable'),
			no_answer: _('no answer'),
			closed: _('closed without a reply'),
			unexpected: _('an unexpected reply'),
			malformed: _('something else answers on this port'),
			error: _('could not be sent from this router')
		}[x.outcome] || x.outcome);

	if (protocol == 'pptp')
		said = _('Start-Control-Connection-Reply, %s; server "%s", vendor "%s"').format(r.result == 1 ? _('accepted') : _('refused with result %d').format(r.result), r.host_name, r.vendor);
	else if (protocol == 'l2tp')
		said = r.message == 'SCCRP' ? _('SCCRP; server "%s", vendor "%s"').format(r.host_name || '', r.vendor || '') : _('%s, result %d').format(r.message, r.result ? r.result.code : 0);
	else if (r.error)
		said = _('%s reply: %s').format(r.version == '1.0' ? 'IKEv1' : 'IKEv2 ' + r.exchange, r.error);
	else
		said = _('%s reply: accepts %s').format('IKEv2 ' + r.exchange, (r.proposal || []).join('/'));

	if (x.nat && x.nat.router_side)
		said += ' ' + _('(a NAT sits between this router and the server)');

	return where + _('answered in %s ms').format(x.rtt_ms) + ' - ' + said;
}

function verdictText(v) {
	const word = {
		control_off: () => _('passes: passthrough control is off, firewall4 alone decides'),
		protocol_off: () => _('blocked: this protocol is switched off'),
		family_blocked: () => _('blocked: only %s is allowed for this protocol').format(v.value == 'ipv4' ? _('IPv4') : _('IPv6')),
		host_not_listed: () => _('blocked: not among the allowed inside hosts (%s)').format(v.value),
		host_listed: () => _('passes: allowed inside host (%s)').format(v.value),
		all_hosts: () => _('passes'),
		host_unknown: () => _('cannot tell: the router has not seen this host lately')
	}[v.code];

	return word ? word() : v.message;
}

function conclusionText(c) {
	const word = {
		works: _('Both sides are fine: look at the VPN client (its settings, its credentials).'),
		router_blocks: _('The server answers, but this router blocks this host: change the settings below.'),
		server_silent: _('The server does not answer, not even this router: the problem lies beyond this router.'),
		both_fail: _('The server does not answer, and this router blocks this host too.'),
		server_answers: _('The server answers.'),
		cannot_tell: _('The server was asked; whether this router lets this host through cannot be told.')
	}[c.code];

	return word || c.message;
}

// Warnings about sessions name their hosts and servers in their own words.
const NAMES_ITSELF = [ 'esp_collision', 'esp_in_use', 'pptp_no_helper', 'pptp_no_gre', 'protocol_dropped' ];

function diagnosticText(d) {
	const word = DIAGNOSTICS[d.code];
	const text = word ? word(d) : d.message;
	const where = (d.field && !(word && NAMES_ITSELF.indexOf(d.code) >= 0)) ? (d.value != null ? '%s = %s: '.format(d.field, d.value) : '%s: '.format(d.field)) : '';

	return where + text;
}

function renderDiagnostics(list) {
	if (!Array.isArray(list) || !list.length)
		return E([]);

	return E('div', {}, list.map((d) => E('div', { 'class': d.severity == 'error' ? 'alert-message error' : 'alert-message warning' }, diagnosticText(d))));
}

function formatBytes(n) {
	const units = [ 'B', 'KiB', 'MiB', 'GiB', 'TiB' ];
	let i = 0;

	for (n = +n || 0; n >= 1024 && i < units.length - 1; i++)
		n /= 1024;

	return '%s %s'.format(i ? n.toFixed(1) : n, units[i]);
}

function formatCounter(c) {
	return c ? N_(c.packets, '%d packet (%s)', '%d packets (%s)').format(c.packets, formatBytes(c.bytes)) : '-';
}

// Who noticed that the kernel had lost our rules (Status.restores).
function triggerText(trigger) {
	return {
		watchdog: _('the service\'s watchdog'),
		firewall4: _('firewall4, after it started or reloaded'),
		start: _('the service, at its start')
	}[trigger] || trigger;
}

/** Restores since boot: how often, the last one, when and why. */
function renderRestores(restores) {
	const last = restores && Array.isArray(restores.recent) ? restores.recent[0] : null;

	if (!last)
		return E([]);

	return E('p', {}, [
		E('strong', {}, N_(restores.count, 'Restored %d time since boot:', 'Restored %d times since boot:').format(restores.count)), ' ',
		_('something removed these rules from the kernel (a firewall stop, nft flush ruleset...) and the service put them back.'), ' ',
		_('Last on %s: %s.').format(new Date(last.time * 1000).toLocaleString(), last.lost), ' ',
		_('Noticed by:'), ' ', triggerText(last.trigger)
	]);
}

/** rows: arrays of cell contents. On a phone the theme hides the header row
 * and labels each cell by its data-title. */
function table(titles, rows, empty) {
	return E('table', { 'class': 'table' }, [
		E('tr', { 'class': 'tr table-titles' }, titles.map((t) => E('th', { 'class': 'th' }, t))),
		...(rows.length
			? rows.map((cells) => E('tr', { 'class': 'tr' }, cells.map((c, i) => E('td', { 'class': 'td', 'data-title': titles[i] || null }, c))))
			: [ E('tr', { 'class': 'tr placeholder' }, E('td', { 'class': 'td' }, E('em', {}, empty))) ])
	]);
}

return view.extend({
	load: function() {
		return Promise.all([
			L.resolveDefault(callStatus(), {}),
			L.resolveDefault(callSessions(), {}),
			L.resolveDefault(network.getHostHints(), null)
		]);
	},

	// Poll and the buttons update these nodes in place.
	refresh: function() {
		return Promise.all([ L.resolveDefault(callStatus(), {}), L.resolveDefault(callSessions(), {}) ]).then((data) => {
			this.status = data[0];
			this.sessions = data[1];
			dom.content(this.statusNode, this.renderStatus());
			dom.content(this.serversNode, this.renderServers());
			dom.content(this.sessionsNode, this.renderSessions());
		});
	},

	handleToggle: function(protocol, enabled) {
		// Stage what the user typed (as LuCI's Save does) before the service
		// rewrites the file, so the form still shows it afterwards.
		return this.map.save(null, true).then(() => callSet(protocol, enabled)).then((reply) => {
			if (refusal(reply))
				return this.notifyRefusal(refusal(reply));

			// The daemon changed UCI: show the form what it wrote.
			uci.unload('vpn-passthrough');

			return this.map.load().then(() => this.map.reset());
		}).catch((e) => ui.addNotification(null, E('p', {}, e ? errorText(e) : _('Some settings below are not valid: correct them first.')), 'danger')).then(() => this.refresh());
	},

	// A failed apply answers with the status (its last apply says why): refresh shows it.
	handleApplyNow: function() {
		return callApply().then((reply) => refusal(reply) && this.notifyRefusal(refusal(reply)), (e) => ui.addNotification(null, E('p', {}, errorText(e)), 'danger')).then(() => this.refresh());
	},

	/** Why the service refused: its diagnostics, worded here, or its message. */
	notifyRefusal: function(r) {
		// The notification is the alert box already: plain lines inside it.
		ui.addNotification(null, (Array.isArray(r.diagnostics) && r.diagnostics.length) ? r.diagnostics.map((d) => E('p', {}, diagnosticText(d))) : E('p', {}, r.error), 'danger');
	},

	renderStatus: function() {
		const st = this.status || {};

		if (!L.isObject(st.protocols))
			// Stopping the service removes the rules; a daemon that ended
			// otherwise leaves them loaded (so a restart opens no gap).
			return E('p', { 'class': 'alert-message warning' }, _('The vpn-passthrough service is not running: nothing shows its rules here or puts them back when they are removed. If it was stopped on purpose, it removed them and firewall4 alone decides (VPN traffic passes); if it ended otherwise, the rules it last loaded may still be in the kernel. Start it under System > Startup; if it stops again, the system log says why (it needs the txiki.js runtime, package txiki).'));

		const readonly = this.map.readonly;
		const helper = {
			loaded: _('PPTP helper: loaded'),
			builtin: _('PPTP helper: built into the kernel'),
			missing: _('PPTP helper: missing. Install kmod-nf-nathelper-extra so that several inside clients can use one PPTP server.'),
			unknown: _('PPTP helper: unknown')
		}[st.helper && st.helper.pptp] || _('PPTP helper: unknown');
		const last = st.last_apply;
		const failed = (last && !last.ok && Array.isArray(last.diagnostics)) ? last.diagnostics : [];

		// With the master switch off our rules are gone: everything passes and the switches wait.
		const off = !st.enabled;
		const rows = PROTOCOLS.map((name) => {
			const p = st.protocols[name] || {};

			return [
				protocolTitle(name),
				off ? _('passes (control off)') : (p.enabled ? _('passes') : _('blocked')),
				{ any: _('IPv4 and IPv6'), ipv4: _('IPv4 only'), ipv6: _('IPv6 only') }[p.family] || '-',
				(p.hosts && p.hosts.length) ? p.hosts.join(', ') : _('all inside hosts'),
				p.passed ? N_(p.passed.packets, '%d connection', '%d connections').format(p.passed.packets) : '-',
				formatCounter(p.dropped),
				E('button', {
					'class': p.enabled ? 'cbi-button cbi-button-negative' : 'cbi-button cbi-button-positive',
					'disabled': (readonly || off) || null,
					'click': ui.createHandlerFn(this, 'handleToggle', name, !p.enabled)
				}, p.enabled ? _('Block now') : _('Allow now'))
			];
		});

		return E([
			st.enabled ? E([]) : E('p', { 'class': 'alert-message warning' }, _('Passthrough control is switched off (vpn-passthrough.globals.enabled is 0): its rules are removed and firewall4 alone decides.')),
			E('p', {}, [
				E('strong', {}, st.applied ? _('Rules applied.') : _('Rules not applied.')), ' ',
				last ? (last.ok ? _('Last applied %s, in %d ms.') : _('Applying failed %s (after %d ms).')).format(new Date(last.time * 1000).toLocaleString(), last.duration_ms) : '', ' ',
				helper, ' ',
				E('button', { 'class': 'cbi-button cbi-button-apply', 'disabled': readonly || null, 'click': ui.createHandlerFn(this, 'handleApplyNow') }, _('Apply again'))
			]),
			renderRestores(st.restores),
			renderDiagnostics(failed),
			// A configuration error that failed the last apply is in both lists: once is enough.
			renderDiagnostics((st.diagnostics || []).filter((d) => !aboutServer(d, st.servers || []) && !failed.some((f) => diagnosticText(f) == diagnosticText(d)))),
			table([ _('Protocol'), _('State'), _('IP family'), _('Allowed hosts'), _('Passed (connections)'), _('Blocked (packets)'), '' ], rows, '')
		]);
	},

	renderServers: function() {
		const st = this.status || {};
		const servers = Array.isArray(st.servers) ? st.servers : [];
		const readonly = this.map.readonly || !L.isObject(st.protocols);
		const rows = servers.map((v) => {
			const state = !st.enabled ? _('off (control off)') : (!v.enabled ? _('disabled') : (v.active ? _('forwarded') : _('not applied')));

			return [
				E('strong', {}, v.name),
				{ pptp: _('PPTP'), l2tp: _('L2TP/IPsec'), ipsec: _('IPsec') }[v.protocol] || '-',
				v.forwards || '-',
				[ v.host, v.host6 ].filter((a) => a).join(', ') || '-',
				(v.allow && v.allow.length) ? v.allow.join(', ') : _('anyone'),
				state,
				v.connections ? N_(v.connections.packets, '%d connection', '%d connections').format(v.connections.packets) : '-',
				(v.allow && v.allow.length && v.refused) ? N_(v.refused.packets, '%d packet', '%d packets').format(v.refused.packets) : '-',
				E('div', {}, [
					E('button', { 'class': 'cbi-button cbi-button-edit', 'disabled': readonly || null, 'click': ui.createHandlerFn(this, 'handleServerEdit', v.name) }, _('Edit')), ' ',
					E('button', { 'class': 'cbi-button', 'disabled': readonly || null, 'click': ui.createHandlerFn(this, 'handleServerToggle', v.name, !v.enabled) }, v.enabled ? _('Disable') : _('Enable')), ' ',
					E('button', { 'class': 'cbi-button cbi-button-remove', 'disabled': readonly || null, 'click': ui.createHandlerFn(this, 'handleServerRemove', v.name) }, _('Remove'))
				])
			];
		});

		return E([
			renderDiagnostics((st.diagnostics || []).filter((d) => aboutServer(d, servers))),
			table([ _('Name'), _('Protocol'), _('Forwards'), _('Inside host'), _('Allowed sources'), _('State'), _('Let in'), _('Refused'), '' ], rows,
				_('No VPN servers behind this router yet.')),
			E('button', { 'class': 'cbi-button cbi-button-add', 'disabled': readonly || null, 'click': ui.createHandlerFn(this, 'handleServerEdit', null) }, _('Add server'))
		]);
	},

	/** A section name no other section has: vpn1, vpn2, ... */
	freeServerName: function() {
		const taken = (this.status && this.status.servers || []).map((v) => v.name);

		for (let i = 1; ; i++)
			if (taken.indexOf('vpn' + i) < 0)
				return 'vpn' + i;
	},

	/** The dialog for a new server (name null) or an existing one. */
	handleServerEdit: function(name) {
		const known = ((this.status && this.status.servers) || []).filter((v) => v.name == name)[0];
		const v = known || { name: this.freeServerName(), enabled: true, protocol: 'ipsec', host: '', host6: '', allow: [] };
		const w = {
			name: new ui.Textfield(v.name, { id: 'vpnpt-server-name', datatype: 'uciname', disabled: known != null }),
			enabled: new ui.Checkbox(v.enabled ? '1' : '0', { id: 'vpnpt-server-enabled' }),
			protocol: new ui.Select(v.protocol || 'ipsec', {
				ipsec: _('IPsec (IKEv2, IKEv1)'),
				l2tp: _('L2TP/IPsec'),
				pptp: _('PPTP')
			}, { id: 'vpnpt-server-protocol' }),
			host: new ui.Textfield(v.host || '', { id: 'vpnpt-server-host', datatype: 'ip4addr', placeholder: '192.168.1.20' }),
			host6: new ui.Textfield(v.host6 || '', { id: 'vpnpt-server-host6', datatype: 'ip6addr', optional: true }),
			// No choices (null): LuCI draws a typed, validated list; any choice list, even empty, makes it a dropdown.
			allow: new ui.DynamicList(v.allow || [], null, { id: 'vpnpt-server-allow', datatype: 'ipmask', placeholder: _('anyone') })
		};
		const problems = E('div');
		// LuCI gives a widget's input the id widget.<id> (a checkbox: data-widget-id);
		// a click on the label reaches it as in LuCI's own forms.
		const row = (id, label, widget, help) => E('div', { 'class': 'cbi-value' }, [
			E('label', {
				'class': 'cbi-value-title',
				'for': 'widget.' + id,
				'click': (ev) => {
					const input = ev.currentTarget.nextElementSibling.querySelector('[data-widget-id="widget.' + id + '"]');

					if (input) {
						input.click();
						input.focus();
					}
				}
			}, label),
			E('div', { 'class': 'cbi-value-field' }, [ widget.render(), help ? E('div', { 'class': 'cbi-value-description' }, help) : E([]) ])
		]);

		ui.showModal(known ? _('VPN server %s').format(name) : _('Add a VPN server'), [
			row('vpnpt-server-name', _('Name'), w.name, _('Letters, digits and _: the name of its section in /etc/config/vpn-passthrough.')),
			row('vpnpt-server-enabled', _('Enabled'), w.enabled),
			row('vpnpt-server-protocol', _('Protocol'), w.protocol, _('IPsec forwards UDP 500, UDP 4500 and ESP; L2TP/IPsec UDP 1701 and the IPsec set; PPTP TCP 1723 and GRE. Only these, to this host only; the router has one outside address, so each protocol can go to one server.')),
			row('vpnpt-server-host', _('Inside host (IPv4)'), w.host, _('The address of the computer that runs the VPN server; the router forwards its outside address to it.')),
			row('vpnpt-server-host6', _('Inside host (IPv6)'), w.host6, _('Optional: its IPv6 address, let in directly (IPv6 has no NAT).')),
			row('vpnpt-server-allow', _('Allowed sources'), w.allow, _('Optional: outside addresses or networks that may connect; empty: anyone.')),
			problems,
			E('div', { 'class': 'right' }, [
				E('button', { 'class': 'cbi-button', 'click': ui.hideModal }, _('Cancel')), ' ',
				E('button', { 'class': 'cbi-button cbi-button-positive', 'click': ui.createHandlerFn(this, 'handleServerSave', w, problems) }, _('Save'))
			])
		]);
	},

	/** Asks the daemon first (check_server) and shows what it says; saves (set_server) only when nothing is wrong. */
	handleServerSave: function(w, problems) {
		const values = [ w.name.getValue().trim(), w.enabled.getValue() == '1', w.protocol.getValue(), w.host.getValue().trim(), w.host6.getValue().trim(), w.allow.getValue() ];

		return callCheckServer.apply(null, values).then((r) => {
			if (r.ok === false)
				return dom.content(problems, renderDiagnostics(r.diagnostics));

			return callSetServer.apply(null, values).then((reply) => {
				const no = refusal(reply);

				if (no)
					return dom.content(problems, (Array.isArray(no.diagnostics) && no.diagnostics.length) ? renderDiagnostics(no.diagnostics) : E('div', { 'class': 'alert-message error' }, no.error));

				ui.hideModal();

				return this.refresh();
			});
		}).catch((e) => dom.content(problems, E('div', { 'class': 'alert-message error' }, errorText(e))));
	},

	handleServerToggle: function(name, enabled) {
		return callSetServer(name, enabled).then((reply) => refusal(reply) && this.notifyRefusal(refusal(reply)), (e) => ui.addNotification(null, E('p', {}, errorText(e)), 'danger')).then(() => this.refresh());
	},

	handleServerRemove: function(name) {
		ui.showModal(_('Remove VPN server %s?').format(name), [
			E('p', {}, _('Its forwards are removed at once, and the sessions it has are cut.')),
			E('div', { 'class': 'right' }, [
				E('button', { 'class': 'cbi-button', 'click': ui.hideModal }, _('Cancel')), ' ',
				E('button', { 'class': 'cbi-button cbi-button-negative', 'click': ui.createHandlerFn(this, 'handleServerDelete', name) }, _('Remove'))
			])
		]);
	},

	handleServerDelete: function(name) {
		return callDeleteServer(name).then((reply) => {
			ui.hideModal();
			if (refusal(reply))
				this.notifyRefusal(refusal(reply));
		}, (e) => {
			ui.hideModal();
			ui.addNotification(null, E('p', {}, errorText(e)), 'danger');
		}).then(() => this.refresh());
	},

	// "Test a VPN server": the daemon asks the server from the router itself;
	// the answer shows next to what the settings do to the chosen inside host.
	runProbe: function(server, protocol, host) {
		if (!server)
			return Promise.resolve(dom.content(this.probeNode, E('p', { 'class': 'alert-message warning' }, _('Enter the VPN server\'s address or host name.'))));

		dom.content(this.probeNode, E('p', { 'class': 'spinning' }, _('Asking %s...').format(server)));

		return callProbe(server, protocol || undefined, host || undefined).then((reply) => {
			dom.content(this.probeNode, this.renderProbe(reply));

			return reply;
		}, (e) => dom.content(this.probeNode, E('p', { 'class': 'alert-message warning' }, L.isObject((this.status || {}).protocols) ? errorText(e) : _('The service could not test the server (is it running?).'))));
	},

	handleProbe: function() {
		const value = (name) => String(this.probeInputs[name].value || '').trim();

		return this.runProbe(value('server'), value('protocol'), value('host'));
	},

	renderProbe: function(reply) {
		// A refused argument or a name that does not resolve: the daemon says which.
		if (refusal(reply) && typeof reply != 'number')
			return E('p', { 'class': 'alert-message warning' }, _('The server could not be tested: %s').format(reply.error));

		if (typeof reply == 'number' || !L.isObject(reply) || !L.isObject(reply.protocols) || !PROTOCOLS.some((p) => L.isObject(reply.protocols[p]) && Array.isArray(reply.protocols[p].exchanges)))
			return E('p', { 'class': 'alert-message warning' }, {
				2: _('This is not an IPv4/IPv6 address or host name.'),
				4: _('The server\'s name does not resolve.')
			}[reply] || _('The service could not test the server (is it running?).'));

		const names = PROTOCOLS.filter((p) => L.isObject(reply.protocols[p]) && Array.isArray(reply.protocols[p].exchanges));
		const host = reply.host ? reply.host.given : null;
		const rows = names.map((name) => {
			const p = reply.protocols[name];
			const lines = p.exchanges.map((x) => E('div', {}, exchangeText(x, name)));

			if (name == 'ipsec')
				lines.push(E('div', {}, p.nat_t ? _('NAT-T available (UDP 4500 answers)') : _('NAT-T not available')));

			return [
				protocolTitle(name),
				E('div', {}, lines),
				...(host ? [ p.verdict ? verdictText(p.verdict) : '-' ] : []),
				E('strong', {}, conclusionText(p.conclusion))
			];
		});

		return E([
			E('p', {}, reply.server == reply.address ? _('Asked %s from this router.').format(reply.address) : _('Asked %s (%s) from this router.').format(reply.server, reply.address)),
			table([ _('Protocol'), _('The server\'s answer'), ...(host ? [ _('This router, for %s').format(host) ] : []), _('Conclusion') ], rows, ''),
			renderDiagnostics(reply.warnings)
		]);
	},

	// Built once: the form re-renders its sections (after a save), and what
	// the user typed and the last result must stay.
	renderProbeForm: function(hosts) {
		const server = E('input', { 'class': 'cbi-input-text', 'type': 'text', 'placeholder': _('vpn.example.com or 203.0.113.7') });
		const protocol = E('select', { 'class': 'cbi-input-select' }, [
			E('option', { 'value': '' }, _('All three')),
			...PROTOCOLS.map((name) => E('option', { 'value': name }, protocolTitle(name)))
		]);
		const host = E('select', { 'class': 'cbi-input-select' }, [
			E('option', { 'value': '' }, _('(none)')),
			...(hosts ? hosts.getMACHints(false) : []).map((hint) => {
				const mac = hint[0];
				const ip4 = hosts.getIPAddrByMACAddr(mac);
				// hint[1] is the name, else the host's first address: never the same thing twice.
				const name = hosts.getHostnameByMACAddr(mac);

				return E('option', { 'value': ip4 || mac }, ip4 ? '%s (%s)'.format(ip4, name || mac) : (hint[1] && hint[1] != mac) ? '%s (%s)'.format(mac, hint[1]) : mac);
			})
		]);

		this.probeInputs = { server: server, protocol: protocol, host: host };

		return E('div', { 'class': 'cbi-section' }, [
			E('h3', {}, _('Test a VPN server')),
			E('p', {}, _('Is it this router or the server? The router sends each protocol\'s opening message to the server and shows what came back, next to what the settings do to an inside host.')),
			E('div', {}, [
				E('label', {}, [ _('VPN server'), ' ', server ]), ' ',
				E('label', {}, [ _('Protocol'), ' ', protocol ]), ' ',
				E('label', {}, [ _('Inside host'), ' ', host ]), ' ',
				E('button', { 'class': 'cbi-button cbi-button-action', 'disabled': this.map.readonly || null, 'click': ui.createHandlerFn(this, 'handleProbe') }, _('Test'))
			]),
			this.probeNode
		]);
	},

	renderSessions: function() {
		const report = this.sessions || {};
		const sessions = Array.isArray(report.sessions) ? report.sessions : [];
		const keeps = report.conntrack || {};
		// Only the columns this router can fill: byte counts need conntrack
		// accounting, ages conntrack timestamps (or a session that has them).
		const traffic = keeps.accounting === true || sessions.some((s) => s.bytes != null);
		const age = keeps.timestamps === true || sessions.some((s) => s.age != null);
		const helper = (s) => (s.protocol != 'pptp' || String(s.inside).indexOf(':') >= 0) ? _('n/a') : (s.helper == null ? '?' : (s.helper ? _('yes') : _('no')));

		const rows = sessions.map((s) => [
			protocolTitle(s.protocol),
			s.inside,
			s.outside,
			s.transport,
			helper(s),
			...(traffic ? [ s.bytes == null ? '-' : N_(s.packets, '%d packet (%s)', '%d packets (%s)').format(s.packets, formatBytes(s.bytes)) ] : []),
			...(age ? [ s.age == null ? '-' : N_(s.age, '%d second', '%d seconds').format(s.age) ] : [])
		]);
		const hidden = sessions.length ? [
			...(traffic ? [] : [ _('Traffic is not shown: connection tracking keeps no byte counts on this router (sysctl net.netfilter.nf_conntrack_acct=1 keeps them for connections that start after it).') ]),
			...(age ? [] : [ _('Age is not shown: connection tracking keeps no start times on this router (sysctl net.netfilter.nf_conntrack_timestamp=1 keeps them for connections that start after it).') ])
		] : [];

		return E([
			renderDiagnostics(report.warnings),
			table([ _('Protocol'), _('Inside host'), _('VPN server'), _('Transport'), _('Helper'), ...(traffic ? [ _('Traffic') ] : []), ...(age ? [ _('Age') ] : []) ], rows,
				_('No VPN sessions pass through the router right now.')),
			...hidden.map((t) => E('p', { 'class': 'cbi-section-descr' }, t))
		]);
	},

	render: function(data) {
		const hosts = data[2];
		let m, s, o;

		this.status = data[0];
		this.sessions = data[1];
		this.statusNode = E('div');
		this.serversNode = E('div');
		this.sessionsNode = E('div');
		this.probeNode = E('div');

		m = this.map = new form.Map('vpn-passthrough', _('VPN Passthrough'),
			_('Lets VPN clients inside your network (PPTP, L2TP, IPsec) reach VPN servers on the Internet, or blocks them, protocol by protocol.'));

		s = m.section(form.TypedSection, '_status', _('Status'));
		s.render = () => E('div', { 'class': 'cbi-section' }, [ E('h3', {}, _('Status')), this.statusNode ]);

		s = m.section(form.TypedSection, '_sessions', _('VPN sessions'));
		s.render = () => E('div', { 'class': 'cbi-section' }, [ E('h3', {}, _('VPN sessions')), this.sessionsNode ]);

		s = m.section(form.TypedSection, '_probe', _('Test a VPN server'));
		s.render = () => this.probeBox || (this.probeBox = this.renderProbeForm(hosts));

		s = m.section(form.NamedSection, 'globals', 'globals', _('General'));
		o = s.option(form.Flag, 'enabled', _('Passthrough control'),
			_('Off: the rules below are removed and firewall4 alone decides (every VPN protocol passes).'));
		o.rmempty = false;
		o.default = '1';

		o = s.option(form.Flag, 'log', _('Log blocked attempts'),
			_('Writes a rate-limited line starting with "vpn-passthrough: " to the system log for each blocked VPN packet.'));
		o.rmempty = false;

		PROTOCOLS.forEach((name) => {
			s = m.section(form.NamedSection, name, 'protocol', protocolTitle(name), protocolCovers(name));

			o = s.option(form.Flag, 'enabled', _('Pass through'), _('Off: this protocol is blocked from inside to outside.'));
			o.rmempty = false;
			o.default = '1';

			o = s.option(form.ListValue, 'family', _('IP family'));
			o.value('any', _('IPv4 and IPv6'));
			o.value('ipv4', _('IPv4 only'));
			o.value('ipv6', _('IPv6 only'));
			o.default = 'any';
			// LuCI removes an option whose value equals its default unless
			// rmempty is off: a Save with nothing changed would delete
			// family 'any' from every section (the shipped config has it).
			o.rmempty = false;
			o.retain = true;
			o.depends('enabled', '1');

			o = s.option(form.DynamicList, 'host', _('Allowed inside hosts'),
				_('Only these may use it; empty: every inside host. An IPv4/IPv6 address, a subnet or a MAC address.'));
			o.datatype = 'or(ipmask,macaddr)';
			o.placeholder = _('all inside hosts');
			o.retain = true;
			o.depends('enabled', '1');

			(hosts ? hosts.getMACHints(false) : []).forEach((hint) => {
				const mac = hint[0];
				const name = hosts.getHostnameByMACAddr(mac) || mac;
				const ip4 = hosts.getIPAddrByMACAddr(mac);
				const ip6 = hosts.getIP6AddrByMACAddr(mac);

				if (ip4)
					o.value(ip4, '%s (%s)'.format(ip4, name));
				if (ip6)
					o.value(ip6, '%s (%s)'.format(ip6, name));
				o.value(mac, '%s (%s)'.format(mac, hint[1] || mac));
			});
		});

		s = m.section(form.TypedSection, '_servers', _('VPN servers behind this router'));
		s.render = () => E('div', { 'class': 'cbi-section' }, [
			E('h3', {}, _('VPN servers behind this router')),
			E('div', { 'class': 'cbi-section-descr' }, _('A VPN server on a computer inside your network (PPTP, L2TP/IPsec or IPsec/IKEv2) that clients on the Internet reach through the router\'s outside address. Only that protocol\'s ports are forwarded, to that computer only; PPTP gets its connection tracking helper.')),
			this.serversNode
		]);

		s = m.section(form.TypedSection, '_hint', _('Good to know'));
		s.render = () => E('div', { 'class': 'cbi-section' }, [
			E('h3', {}, _('Good to know')),
			E('ul', {}, [
				E('li', {}, _('Passthrough is for VPN clients inside your network reaching a VPN server outside. To run a VPN server behind this router, add it under "VPN servers behind this router": unlike a port forward, it also forwards GRE and ESP and attaches the PPTP helper.')),
				E('li', {}, _('Several IPsec clients connecting to the same VPN server need NAT traversal (NAT-T, UDP 4500): with plain ESP only one of them works at a time.'))
			])
		]);

		return m.render().then((node) => {
			dom.content(this.statusNode, this.renderStatus());
			dom.content(this.serversNode, this.renderServers());
			dom.content(this.sessionsNode, this.renderSessions());
			poll.add(L.bind(this.refresh, this), 5);

			return node;
		});
	}
});
