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

const callStatus = rpc.declare({ object: 'vpn-passthrough', method: 'status', expect: { '': {} } });
const callSessions = rpc.declare({ object: 'vpn-passthrough', method: 'sessions', expect: { '': {} } });
const callSet = rpc.declare({ object: 'vpn-passthrough', method: 'set', params: [ 'protocol', 'enabled' ], reject: true });
const callApply = rpc.declare({ object: 'vpn-passthrough', method: 'apply', reject: true });

const PROTOCOLS = [ 'pptp', 'l2tp', 'ipsec' ];

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
	esp_collision: () => _('Several inside hosts send raw ESP to this IPsec server: through NAT only one of them can work. Make the VPN clients use NAT-T (UDP 4500).'),
	pptp_no_helper: () => _('PPTP passes without the conntrack helper: only one inside client can use this server at a time. Install kmod-nf-nathelper-extra and apply again.'),
	pptp_no_gre: () => _('This PPTP control connection carries no GRE: the call did not start, or GRE is blocked (clients report error 619).'),
	protocol_dropped: () => _('Traffic of this protocol was dropped since the last apply: it is switched off, or restricted to some families or hosts.')
};

function diagnosticText(d) {
	const word = DIAGNOSTICS[d.code];
	const text = word ? word(d) : d.message;
	const where = d.field ? (d.value != null ? '%s = %s: '.format(d.field, d.value) : '%s: '.format(d.field)) : '';

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
	return c ? _('%d packets (%s)').format(c.packets, formatBytes(c.bytes)) : '-';
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
			dom.content(this.sessionsNode, this.renderSessions());
		});
	},

	handleToggle: function(protocol, enabled) {
		// Stage what the user typed (as LuCI's Save does) before the service
		// rewrites the file, so the form still shows it afterwards.
		return this.map.save(null, true).then(() => callSet(protocol, enabled)).then(() => {
			// The daemon changed UCI: show the form what it wrote.
			uci.unload('vpn-passthrough');

			return this.map.load().then(() => this.map.reset());
		}).catch((e) => ui.addNotification(null, E('p', {}, e ? e.message : _('Some settings below are not valid: correct them first.')), 'danger')).then(() => this.refresh());
	},

	handleApplyNow: function() {
		return callApply().catch((e) => ui.addNotification(null, E('p', {}, e.message), 'danger')).then(() => this.refresh());
	},

	renderStatus: function() {
		const st = this.status || {};

		if (!L.isObject(st.protocols))
			return E('p', { 'class': 'alert-message warning' }, _('The vpn-passthrough service is not running, so firewall4 alone decides and VPN traffic passes. Start it under System > Startup; if it stops again, the system log says why (it needs the txiki.js runtime, package txiki).'));

		const readonly = this.map.readonly;
		const helper = {
			loaded: _('PPTP helper: loaded'),
			builtin: _('PPTP helper: built into the kernel'),
			missing: _('PPTP helper: missing. Install kmod-nf-nathelper-extra so that several inside clients can use one PPTP server.'),
			unknown: _('PPTP helper: unknown')
		}[st.helper && st.helper.pptp] || _('PPTP helper: unknown');
		const last = st.last_apply;

		// With the master switch off our rules are gone: everything passes and the switches wait.
		const off = !st.enabled;
		const rows = PROTOCOLS.map((name) => {
			const p = st.protocols[name] || {};

			return [
				protocolTitle(name),
				off ? _('passes (control off)') : (p.enabled ? _('passes') : _('blocked')),
				{ any: _('IPv4 and IPv6'), ipv4: _('IPv4 only'), ipv6: _('IPv6 only') }[p.family] || '-',
				(p.hosts && p.hosts.length) ? p.hosts.join(', ') : _('all inside hosts'),
				p.passed ? _('%d connections').format(p.passed.packets) : '-',
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
			renderDiagnostics(last && !last.ok ? last.diagnostics : []),
			renderDiagnostics(st.diagnostics),
			table([ _('Protocol'), _('State'), _('IP family'), _('Allowed hosts'), _('Passed (connections)'), _('Blocked (packets)'), '' ], rows, '')
		]);
	},

	renderSessions: function() {
		const report = this.sessions || {};
		const sessions = Array.isArray(report.sessions) ? report.sessions : [];

		const rows = sessions.map((s) => [
			protocolTitle(s.protocol),
			s.inside,
			s.outside,
			s.transport,
			s.helper == null ? '-' : (s.helper ? _('yes') : _('no')),
			s.bytes == null ? '-' : _('%d packets (%s)').format(s.packets, formatBytes(s.bytes)),
			s.age == null ? '-' : _('%d s').format(s.age)
		]);

		return E([
			renderDiagnostics(report.warnings),
			table([ _('Protocol'), _('Inside host'), _('VPN server'), _('Transport'), _('Helper'), _('Traffic'), _('Age') ], rows,
				_('No VPN sessions pass through the router right now.'))
		]);
	},

	render: function(data) {
		const hosts = data[2];
		let m, s, o;

		this.status = data[0];
		this.sessions = data[1];
		this.statusNode = E('div');
		this.sessionsNode = E('div');

		m = this.map = new form.Map('vpn-passthrough', _('VPN Passthrough'),
			_('Lets VPN clients inside your network (PPTP, L2TP, IPsec) reach VPN servers on the Internet, or blocks them, protocol by protocol.'));

		s = m.section(form.TypedSection, '_status', _('Status'));
		s.render = () => E('div', { 'class': 'cbi-section' }, [ E('h3', {}, _('Status')), this.statusNode ]);

		s = m.section(form.TypedSection, '_sessions', _('VPN sessions'));
		s.render = () => E('div', { 'class': 'cbi-section' }, [ E('h3', {}, _('VPN sessions')), this.sessionsNode ]);

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

		s = m.section(form.TypedSection, '_hint', _('Good to know'));
		s.render = () => E('div', { 'class': 'cbi-section' }, [
			E('h3', {}, _('Good to know')),
			E('ul', {}, [
				E('li', {}, _('Passthrough is for VPN clients inside your network reaching a VPN server outside. To run a VPN server behind this router, forward its ports instead (Network > Firewall > Port Forwards).')),
				E('li', {}, _('Several IPsec clients connecting to the same VPN server need NAT traversal (NAT-T, UDP 4500): with plain ESP only one of them works at a time.'))
			])
		]);

		return m.render().then((node) => {
			dom.content(this.statusNode, this.renderStatus());
			dom.content(this.sessionsNode, this.renderSessions());
			poll.add(L.bind(this.refresh, this), 5);

			return node;
		});
	}
});
