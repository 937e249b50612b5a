// VPN servers behind the router, the pure part: the `config server`
// sections (each bad value names its field and value), the router's facts
// they are checked against (inside networks from UCI and netifd, fw4's port
// forwards, sockets from real /proc/net text), the checks, and the rules
// firewall4's chain gets (golden file beside the render case).

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { readConfig } from '../../firmware/core/config.ts';
import { formatDiagnostic } from '../../firmware/core/diag.ts';
import { parseProcNet } from '../../firmware/core/net/sockets.ts';
import { checkServers, type ServerFacts } from '../../firmware/core/servers/check.ts';
import { firewallRedirects, insideNetworks } from '../../firmware/core/servers/facts.ts';
import { planServers } from '../../firmware/core/servers/plan.ts';
import { fw4File, fw4Rules, fw4Transaction } from '../../firmware/core/servers/render.ts';
import { parseUci } from '../../firmware/core/uci/parse.ts';
import { firewallZones } from '../../firmware/core/zones.ts';
import { OWN, own, shared } from '../lib/fixtures.ts';

const update = process.env.UPDATE_GOLDEN === '1';
const read = (text: string) => readConfig(parseUci(text));
const lines = (text: string) => read(text).diagnostics.map(formatDiagnostic);

test('a server section: every option read and normalized', () => {
  const { config, diagnostics } = read("config server 'office'\n\toption protocol 'ipsec'\n\toption host '192.168.1.20'\n\toption host6 'FD00:AB:CD:0::20'\n\tlist allow '198.51.100.7/24'\n\tlist allow '2001:db8::/32'\n");

  assert.equal(config.servers, [{ name: 'office', id: 'srv_office', enabled: true, protocol: 'ipsec', host: '192.168.1.20', host6: 'fd00:ab:cd::20', allow: [{ kind: 'ipv4', text: '198.51.100.0/24', hostBitsSet: true }, { kind: 'ipv6', text: '2001:db8::/32' }] }]);
  assert.equal(diagnostics.map(formatDiagnostic), ["warning: vpn-passthrough.office.allow='198.51.100.7/24': has host bits set beyond its prefix; using 198.51.100.0/24 [host_bits_set]"]);
});

test('an anonymous server section is @server[N]; disabled ones are read too', () => {
  const { config } = read("config server\n\toption enabled '0'\n\toption protocol 'pptp'\n\toption host '192.168.1.30'\n");

  assert.equal([config.servers[0]!.name, config.servers[0]!.id, config.servers[0]!.enabled], ['@server[0]', 'srv__0', false]);
});

for (const [what, body, expected] of [
  ['an unknown protocol', "\toption protocol 'wireguard'\n\toption host '192.168.1.20'\n", ["error: vpn-passthrough.s.protocol='wireguard': must be 'pptp', 'l2tp' (L2TP/IPsec) or 'ipsec' [invalid_server_protocol]"]],
  ['no protocol', "\toption host '192.168.1.20'\n", ["error: vpn-passthrough.s.protocol: needs a protocol: 'pptp', 'l2tp' or 'ipsec' [server_protocol_missing]"]],
  ['no address', "\toption protocol 'pptp'\n", ["error: vpn-passthrough.s.host: needs the inside server's address: host (IPv4), host6 (IPv6), or both [server_host_missing]"]],
  ['a prefix as host', "\toption protocol 'pptp'\n\toption host '192.168.1.0/24'\n", ["error: vpn-passthrough.s.host='192.168.1.0/24': must be the inside server's IPv4 address (one unicast address, no prefix) [invalid_server_host]"]],
  ['an IPv6 host given as host', "\toption protocol 'pptp'\n\toption host 'fd00::20'\n", ["error: vpn-passthrough.s.host='fd00::20': must be the inside server's IPv4 address (one unicast address, no prefix) [invalid_server_host]"]],
  ['a link-local host6', "\toption protocol 'ipsec'\n\toption host6 'fe80::20'\n", ["error: vpn-passthrough.s.host6='fe80::20': must be the inside server's global or ULA IPv6 address (one address, no prefix, not link-local) [invalid_server_host6]"]],
  ['a MAC address to allow', "\toption protocol 'ipsec'\n\toption host '192.168.1.20'\n\tlist allow 'aa:bb:cc:dd:ee:ff'\n", ["error: vpn-passthrough.s.allow='aa:bb:cc:dd:ee:ff': is not an outside IPv4/IPv6 address or prefix (an outside host has no MAC address the router can see) [invalid_allow]"]],
  ['a bad allow entry among good ones', "\toption protocol 'ipsec'\n\toption host '192.168.1.20'\n\tlist allow '198.51.100.1'\n\tlist allow '300.1.1.1'\n", ["error: vpn-passthrough.s.allow='300.1.1.1': is not an outside IPv4/IPv6 address or prefix (an outside host has no MAC address the router can see) [invalid_allow]"]],
  ['IPv4-only sources for an IPv6 server', "\toption protocol 'ipsec'\n\toption host6 'fd00::20'\n\tlist allow '198.51.100.1'\n", ["warning: vpn-passthrough.s.allow='198.51.100.1': lists only IPv4 sources: nobody reaches the server over IPv6 [server_allow_no_ipv6]"]],
  ['a list for enabled', "\tlist enabled '1'\n\toption protocol 'pptp'\n\toption host '192.168.1.20'\n", ["error: vpn-passthrough.s.enabled='1': must be a single value (option), not a list [not_a_list]"]],
  ['an unknown option', "\toption protocol 'pptp'\n\toption host '192.168.1.20'\n\toption port '1723'\n", ["warning: vpn-passthrough.s.port='1723': is not an option of a 'server' section; ignored [unknown_option]"]],
] as const) {
  test(`diagnostic: ${what}`, () => {
    assert.equal(lines(`config server 's'\n${body}`), [...expected]);
  });
}

test('sockets: real /proc/net text, every address and state decoded', () => {
  const text = (name: string) => own(`servers/proc-net-${name}`);
  const sockets = [...parseProcNet(text('tcp'), 'tcp'), ...parseProcNet(text('tcp6'), 'tcp'), ...parseProcNet(text('udp'), 'udp'), ...parseProcNet(text('udp6'), 'udp')];

  assert.equal(sockets.map((s) => `${s.proto} ${s.family === 6 ? `[${s.address}]` : s.address}:${s.port}${s.listening ? ' listening' : ''}`), [
    'tcp 0.0.0.0:1723 listening',
    'tcp 127.0.0.1:49644',
    'tcp 127.0.0.1:1723',
    'tcp [::1]:1723 listening',
    'udp 0.0.0.0:500 listening',
    'udp 127.0.0.1:1701 listening',
    'udp 192.168.1.1:4500 listening',
    'udp [::]:4500 listening',
  ]);
  assert.ok(sockets.every((s) => s.inode > 0));
});

const network = parseUci(own('network'));
const firewall = parseUci(shared('fw4/upstream-default.firewall.uci'));
const zones = firewallZones(firewall);
/** netifd's dump for lan: the live IPv4 and the delegated IPv6 prefix (fw4 fixtures' shape). */
const DUMP = { interface: [{ interface: 'lan', up: true, l3_device: 'br-lan', 'ipv4-address': [{ address: '192.168.1.1', mask: 24 }], 'ipv6-address': [], 'ipv6-prefix-assignment': [{ address: 'fd00:ab:cd::', mask: 60, 'local-address': { address: 'fd00:ab:cd::1', mask: 60 } }] }, { interface: 'wan', up: true, l3_device: 'eth1', 'ipv4-address': [{ address: '10.0.2.15', mask: 24 }] }] };

test('inside networks: /etc/config/network (ipaddr + netmask) and netifd (addresses, delegated prefixes), inside zones only', () => {
  const inside = insideNetworks(['lan'], zones, network, DUMP);

  assert.equal(inside.prefixes.map((p) => `${p.family}:${p.bytes.join('.')}/${p.length}`), ['4:192.168.1.0/24', '4:192.168.1.0/24', '6:253.0.0.171.0.205.0.0.0.0.0.0.0.0.0.0/60']);
  assert.equal(inside.router, ['192.168.1.1', '192.168.1.1', 'fd00:ab:cd::1']);
  assert.equal(insideNetworks(['lan'], zones, parseUci("config interface 'lan'\n\toption ipaddr '10.1.0.1/16'\n\tlist ip6addr 'fd11::1/64'\n\toption ip6assign '60'\nconfig globals 'globals'\n\toption ula_prefix 'fd22::/48'\n"), null).prefixes.length, 3);
});

function facts(extra: Partial<ServerFacts> = {}): ServerFacts {
  return { inside: insideNetworks(['lan'], zones, network, DUMP), redirects: [], sockets: [], owners: new Map(), ...extra };
}

const check = (uci: string, f: ServerFacts = facts()) => checkServers(read(uci).config.servers, f).map(formatDiagnostic);
const server = (name: string, protocol: string, host: string, more = '') => `config server '${name}'\n\toption protocol '${protocol}'\n\toption host '${host}'\n${more}`;

test('checks: the host must be an inside host, not the router, not the network or broadcast address', () => {
  assert.equal(check(server('a', 'ipsec', '192.168.1.20', "\toption host6 'fd00:ab:cd:3::20'\n")), []);
  assert.equal(check(server('a', 'ipsec', '10.0.2.50')), ["error: vpn-passthrough.a.host='10.0.2.50': is not in an inside network (192.168.1.0/24): the server must be a host behind the router [server_host_not_inside]"]);
  assert.equal(check(server('a', 'ipsec', '192.168.1.1')), ["error: vpn-passthrough.a.host='192.168.1.1': is the router's own address: name the inside host that runs the VPN server [server_host_is_router]"]);
  assert.equal(check(server('a', 'ipsec', '192.168.1.255')), ["error: vpn-passthrough.a.host='192.168.1.255': is the network or broadcast address of 192.168.1.0/24, not a host [server_host_not_inside]"]);
  assert.equal(check(server('a', 'ipsec', '192.168.1.20', "\toption host6 '2001:db8::20'\n")), ["error: vpn-passthrough.a.host6='2001:db8::20': is not in an inside network (fd00:ab:cd::/60): the server must be a host behind the router [server_host_not_inside]"]);
  assert.equal(check(server('a', 'ipsec', '192.168.1.20'), facts({ inside: { prefixes: [], router: [] } })), ["warning: vpn-passthrough.a.host='192.168.1.20': cannot be checked: no inside network has a known IPv4 subnet [server_host_unchecked]"]);
});

test('checks: one server per protocol set on the outside address; disabled servers do not count; IPv6-only servers never collide', () => {
  assert.equal(check(server('a', 'pptp', '192.168.1.20') + server('b', 'pptp', '192.168.1.21')), ["error: vpn-passthrough.b.protocol='pptp': forwards the PPTP set (TCP 1723 + GRE) like server 'a' (pptp to 192.168.1.20): the router has one outside address, so only one inside host can have it [server_conflict]"]);
  assert.equal(check(server('a', 'l2tp', '192.168.1.20') + server('b', 'ipsec', '192.168.1.20')), ["error: vpn-passthrough.b.protocol='ipsec': forwards the IPsec set (UDP 500 + UDP 4500 + ESP) like server 'a' (l2tp to 192.168.1.20); 192.168.1.20 gets it already from 'a' (an 'l2tp' server forwards the IPsec set too, so IKEv2 reaches it): remove or disable one of the two [server_conflict]"]);
  assert.equal(check(server('a', 'l2tp', '192.168.1.20') + server('b', 'l2tp', '192.168.1.21')).length, 1, 'one error per pair');
  assert.equal(check(server('a', 'pptp', '192.168.1.20') + server('b', 'ipsec', '192.168.1.21')), []);
  assert.equal(check(server('a', 'pptp', '192.168.1.20') + server('b', 'pptp', '192.168.1.21', "\toption enabled '0'\n")), []);
  assert.equal(check("config server 'a'\n\toption protocol 'ipsec'\n\toption host6 'fd00:ab:cd::20'\nconfig server 'b'\n\toption protocol 'ipsec'\n\toption host6 'fd00:ab:cd::21'\n"), []);
});

test("checks: firewall4's port forwards from the outside zones that take the same ports, named", () => {
  const fw = parseUci(`${shared('fw4/upstream-default.firewall.uci')}
config redirect
\toption name 'Forward-IKE'
\toption src 'wan'
\toption src_dport '400-600'
\toption dest_ip '192.168.1.99'
config redirect 'dmz'
\toption src 'wan'
\toption proto 'all'
\toption dest_ip '192.168.1.98'
config redirect
\toption src 'wan'
\toption proto 'tcp'
\toption src_dport '1723'
\toption enabled '0'
config redirect
\toption src 'lan'
\toption proto 'udp'
\toption src_dport '500'
config redirect
\toption src 'wan'
\toption proto 'udp'
\toption src_dport '4500'
\toption family 'ipv6'
config redirect
\toption src 'wan'
\toption proto 'gre'
`);
  const redirects = firewallRedirects(fw, ['wan']);

  assert.equal(redirects.map((r) => `${r.label} ${r.field}`), ["'Forward-IKE' firewall.@redirect[0]", '@redirect[1] firewall.dmz', '@redirect[5] firewall.@redirect[5]']);
  assert.equal(check(server('a', 'ipsec', '192.168.1.20'), facts({ redirects })), [
    "error: vpn-passthrough.a.protocol='ipsec': firewall4's port forward 'Forward-IKE' (firewall.@redirect[0]) also forwards UDP 500 from outside: remove or disable that port forward, or this server [server_redirect_conflict]",
    "error: vpn-passthrough.a.protocol='ipsec': firewall4's port forward @redirect[1] (firewall.dmz) also forwards UDP 500 + UDP 4500 + ESP from outside: remove or disable that port forward, or this server [server_redirect_conflict]",
  ]);
  assert.equal(check(server('a', 'pptp', '192.168.1.20'), facts({ redirects })).map((d) => /forwards (.*) from outside/.exec(d)![1]), ['TCP 1723 + GRE', 'GRE']);
});

test('checks: a VPN daemon on the router itself holding the ports, named with its owner; inside-only and loopback sockets do not count', () => {
  const text = (name: string) => own(`servers/proc-net-${name}`);
  const sockets = [...parseProcNet(text('tcp'), 'tcp'), ...parseProcNet(text('tcp6'), 'tcp'), ...parseProcNet(text('udp'), 'udp'), ...parseProcNet(text('udp6'), 'udp')];
  const owners = new Map([[sockets.find((s) => s.port === 500)!.inode, "'charon' (pid 812)"]]);

  assert.equal(check(server('a', 'ipsec', '192.168.1.20'), facts({ sockets, owners })), [
    "error: vpn-passthrough.a.protocol='ipsec': UDP 500 is taken on the router itself by 'charon' (pid 812) (listening on 0.0.0.0:500): a VPN service on the router and a server forwarded behind it cannot share it; stop and disable that service, or remove this server [server_port_in_use]",
    "error: vpn-passthrough.a.protocol='ipsec': UDP 4500 is taken on the router itself by a program on the router (listening on [::]:4500): a VPN service on the router and a server forwarded behind it cannot share it; stop and disable that service, or remove this server [server_port_in_use]",
  ]);
  assert.equal(check(server('a', 'pptp', '192.168.1.20'), facts({ sockets })).length, 1, 'TCP 1723 listening on 0.0.0.0 (the ESTABLISHED ones do not count)');
  assert.equal(check(server('a', 'l2tp', '192.168.1.20'), facts({ sockets: sockets.filter((s) => s.port === 1701) })), [], 'UDP 1701 on 127.0.0.1 only');
  assert.equal(check("config server 'a'\n\toption protocol 'ipsec'\n\toption host6 'fd00:ab:cd::20'\n", facts({ sockets })), [], 'no NAT for IPv6: the router\'s ports are not in the way');
});

test("the rules firewall4's chain gets, and the file it includes (golden, beside the render case)", () => {
  const dir = join(OWN, 'render', 'servers');
  const { config } = readConfig(parseUci(readFileSync(join(dir, 'vpn-passthrough'), 'utf8')));
  const { servers } = planServers(config.servers, true, 'builtin');
  const rules = fw4Rules(servers, ['eth1', 'pppoe-wan']);
  const path = join(dir, 'expect.fw4.nft');
  const text = `${fw4File(rules)}\n# the transaction part:\n${fw4Transaction(rules)}`;

  if (update) writeFileSync(path, text);
  assert.ok(existsSync(path), `${path} is missing: run with UPDATE_GOLDEN=1 and review it`);
  assert.fixture(text, readFileSync(path, 'utf8'));
  assert.is(fw4Transaction([]), 'flush chain inet fw4 vpn_passthrough_forward\n');
});

test('a closed family renders nothing for it: IPv4-only allow list, host6 gets no accept, only the refusing chain', () => {
  const { config } = read(`${server('a', 'ipsec', '192.168.1.20', "\toption host6 'fd00:ab:cd::20'\n\tlist allow '198.51.100.0/24'\n")}`);
  const { servers } = planServers(config.servers, true, 'builtin');

  assert.equal(servers.list[0]!.allow6, []);
  assert.equal(fw4Rules(servers, ['eth1']).length, 1);
  assert.match(fw4Rules(servers, ['eth1'])[0]!, /ip daddr 192\.168\.1\.20 ip saddr \{ 198\.51\.100\.0\/24 \}/);
});

test('the PPTP helper for a PPTP server with an IPv4 host; a warning without one in the kernel', () => {
  const { config } = read(server('p', 'pptp', '192.168.1.20'));

  assert.is(planServers(config.servers, true, 'builtin').servers.helper, true);
  const missing = planServers(config.servers, true, 'missing');

  assert.is(missing.servers.helper, false);
  assert.equal(missing.diagnostics.map((d) => d.code), ['server_pptp_helper_missing']);
  assert.equal(planServers(config.servers, false, 'builtin').servers.list, [], 'master switch off: no servers');
});

test.run();
