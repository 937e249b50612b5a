// What the settings do to one inside host, decided as the ruleset decides
// (master switch, protocol off, family, host list), what the sessions warn
// about, how the host is recognized from the neighbour tables, and the
// conclusion of the server's answer and the verdict side by side.

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { readConfig } from '../../firmware/core/config.ts';
import type { HelperState, ProtocolName, Session } from '../../firmware/core/model.ts';
import { plan } from '../../firmware/core/plan.ts';
import { identify, parseArp, parseIpNeigh, type Neighbour } from '../../firmware/core/probe/neighbours.ts';
import { conclude, type InsideHost } from '../../firmware/core/probe/report.ts';
import { hostVerdicts, inEntry, type VerdictInputs } from '../../firmware/core/probe/verdict.ts';
import { parseUci } from '../../firmware/core/uci/parse.ts';
import type { EspSender } from '../../firmware/core/sessions/warnings.ts';

const SERVER4 = '198.51.100.7';
const SERVER6 = '2001:db8::7';
const ALL: ProtocolName[] = ['pptp', 'l2tp', 'ipsec'];
const INSIDE = [{ bytes: [192, 168, 1, 0], length: 24 }, { bytes: [0xfd, 0, 0, 0xab, 0, 0xcd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], length: 64 }];

function uci(protocols: Partial<Record<ProtocolName, string>> = {}, globals = "\toption enabled '1'"): string {
  return [`config globals 'globals'\n${globals}`, ...ALL.map((p) => `config protocol '${p}'\n${protocols[p] ?? "\toption enabled '1'"}`)].join('\n\n') + '\n';
}

const host = (given: string, more: Partial<InsideHost> = {}): InsideHost => ({ given, ipv4: given.includes('.') ? [given] : [], ipv6: given.includes('::') ? [given] : [], macs: /^..:..:/.test(given) && !given.includes('::') ? [given] : [], ...more });

function session(over: Partial<Session>): Session {
  return { protocol: 'ipsec', inside: '192.168.1.21', outside: SERVER4, transport: 'esp', helper: null, packets: null, bytes: null, age: null, inside_port: null, outside_port: null, call_ids: null, replied: true, ...over };
}

function judge(config: string, h: InsideHost, over: Partial<Omit<VerdictInputs, 'config' | 'plan'>> & { helper?: HelperState } = {}) {
  const { config: c, diagnostics } = readConfig(parseUci(config));

  assert.equal(diagnostics.filter((d) => d.severity === 'error'), [], 'a valid config');
  const helper = over.helper ?? 'builtin';

  return hostVerdicts(ALL, { config: c, plan: plan(c, { inside: ['br-lan'], outside: ['eth1'] }, helper).plan, helper, applied: true, server: SERVER4, host: h, sessions: [], espSenders: [], inside: INSIDE, ...over });
}

const brief = (r: ReturnType<typeof judge>) => Object.fromEntries(Object.entries(r.verdicts).map(([p, v]) => [p, `${v!.passes} ${v!.code}`]));

test('defaults: every protocol passes for every inside host, no warning', () => {
  const r = judge(uci(), host('192.168.1.20'));

  assert.equal(brief(r), { pptp: 'true all_hosts', l2tp: 'true all_hosts', ipsec: 'true all_hosts' });
  assert.equal(r.warnings, []);
});

test('master switch off: firewall4 alone decides, everything passes', () => {
  const r = judge(uci({ pptp: "\toption enabled '0'" }, "\toption enabled '0'"), host('192.168.1.20'));

  assert.equal(brief(r), { pptp: 'true control_off', l2tp: 'true control_off', ipsec: 'true control_off' });
  assert.equal(r.verdicts.pptp!.field, 'vpn-passthrough.globals.enabled');
});

test('a protocol off is blocked whatever its family and hosts say, naming the field', () => {
  const r = judge(uci({ pptp: "\toption enabled '0'\n\toption family 'ipv4'\n\tlist host '192.168.1.20'" }), host('192.168.1.20'));

  assert.equal(r.verdicts.pptp, { passes: false, code: 'protocol_off', field: 'vpn-passthrough.pptp.enabled', value: '0', message: 'PPTP passthrough is off' });
});

test("family: the server's address family decides", () => {
  const config = uci({ l2tp: "\toption enabled '1'\n\toption family 'ipv6'", ipsec: "\toption enabled '1'\n\toption family 'ipv4'" });
  const v4 = judge(config, host('192.168.1.20'));
  const v6 = judge(config, host('fd00:ab:cd::20'), { server: SERVER6 });

  assert.equal(brief(v4), { pptp: 'true all_hosts', l2tp: 'false family_blocked', ipsec: 'true all_hosts' });
  assert.equal(brief(v6), { pptp: 'true all_hosts', l2tp: 'true all_hosts', ipsec: 'false family_blocked' });
  assert.equal([v4.verdicts.l2tp!.field, v4.verdicts.l2tp!.value], ['vpn-passthrough.l2tp.family', 'ipv6']);
  assert.match(v4.verdicts.l2tp!.message, /allowed over IPv6 only, and this server is an IPv4 address/);
  assert.match(v4.verdicts.ipsec!.message, /over IPv4/);
});

test('host list: by address or prefix of the family in use, or by MAC', () => {
  const config = uci({ pptp: "\toption enabled '1'\n\tlist host '192.168.1.0/28'", l2tp: "\toption enabled '1'\n\tlist host 'aa:bb:cc:dd:ee:01'", ipsec: "\toption enabled '1'\n\tlist host '192.168.1.21'\n\tlist host 'fd00:ab:cd::/64'" });

  assert.equal(brief(judge(config, host('192.168.1.5', { macs: ['aa:bb:cc:dd:ee:01'] }))), { pptp: 'true host_listed', l2tp: 'true host_listed', ipsec: 'false host_not_listed' });
  const r = judge(config, host('192.168.1.20', { macs: ['aa:bb:cc:dd:ee:02'] }));

  assert.equal(brief(r), { pptp: 'false host_not_listed', l2tp: 'false host_not_listed', ipsec: 'false host_not_listed' });
  assert.equal(r.verdicts.ipsec, { passes: false, code: 'host_not_listed', field: 'vpn-passthrough.ipsec.host', value: '192.168.1.21 fd00:ab:cd::/64', message: '192.168.1.20 is not in the IPsec host list (192.168.1.21 fd00:ab:cd::/64)' });
  // Over IPv6 the same host is let through by the IPv6 prefix.
  assert.equal(judge(config, host('192.168.1.20', { ipv6: ['fd00:ab:cd::20'] }), { server: SERVER6 }).verdicts.ipsec!.code, 'host_listed');
});

test("host list: what the router does not know about the host, it says it cannot tell", () => {
  const config = uci({ l2tp: "\toption enabled '1'\n\tlist host 'aa:bb:cc:dd:ee:01'", ipsec: "\toption enabled '1'\n\tlist host 'fd00:ab:cd::/64'" });
  const r = judge(config, host('192.168.1.20'));

  assert.equal(r.verdicts.l2tp!.passes, null);
  assert.match(r.verdicts.l2tp!.message, /does not know its MAC address/);
  // No IPv4 entry and no MAC: no IPv4 traffic of any host passes.
  assert.equal(r.verdicts.ipsec!.passes, false);
  assert.equal(judge(config, host('192.168.1.20'), { server: SERVER6 }).verdicts.ipsec!.passes, null, 'its IPv6 address is unknown');
});

test('raw ESP to this server from other inside hosts: from the sessions and from our esp_senders set (the loser has no conntrack entry)', () => {
  const sessions = [session({}), session({ inside: '192.168.1.20' }), session({ outside: '203.0.113.9', inside: '192.168.1.30' }), session({ transport: 'nat-t', inside: '192.168.1.31' })];
  const espSenders: EspSender[] = [{ inside: '192.168.1.22', outside: SERVER4 }, { inside: '192.168.1.21', outside: SERVER4 }];
  const r = judge(uci(), host('192.168.1.20'), { sessions, espSenders });

  assert.equal(r.warnings.map((d) => [d.code, d.value]), [['esp_in_use', SERVER4]]);
  assert.match(r.warnings[0]!.message, /^192\.168\.1\.21, 192\.168\.1\.22 already send raw ESP to 198\.51\.100\.7: if 192\.168\.1\.20 uses raw ESP too, only one of them can work through NAT/);
  assert.equal(judge(uci(), host('192.168.1.21'), { sessions: [session({})] }).warnings, [], 'its own ESP is no collision');
  assert.equal(judge(uci({ ipsec: "\toption enabled '0'" }), host('192.168.1.20'), { sessions }).warnings, [], 'IPsec blocked anyway');
});

test('PPTP without the helper: only one inside client per server, naming who already uses it', () => {
  const sessions = [session({ protocol: 'pptp', transport: 'control', inside: '192.168.1.21' })];
  const missing = judge(uci(), host('192.168.1.20'), { helper: 'missing', sessions });

  assert.equal(missing.warnings.map((d) => d.code), ['pptp_helper_missing']);
  assert.match(missing.warnings[0]!.message, /install kmod-nf-nathelper-extra\): PPTP passes without Call-ID NAT, so only one inside client at a time can use 198\.51\.100\.7, and 192\.168\.1\.21 already does\./);
  assert.equal(judge(uci(), host('192.168.1.20'), { helper: 'loaded', sessions }).warnings, []);
  assert.equal(judge(uci(), host('fd00:ab:cd::20'), { helper: 'missing', server: SERVER6 }).warnings, [], 'the helper is IPv4 only');
});

test('the rules not loaded, a host outside, a server inside: each said', () => {
  assert.equal(judge(uci(), host('192.168.1.20'), { applied: false }).warnings.map((d) => d.code), ['rules_not_loaded']);
  assert.equal(judge(uci(), host('10.0.2.15')).warnings.map((d) => d.code), ['host_not_inside']);
  assert.equal(judge(uci(), host('192.168.1.20'), { server: '192.168.1.30' }).warnings.map((d) => d.code), ['probe_server_inside']);
});

test('inEntry: addresses and prefixes of both families', () => {
  assert.ok(inEntry('192.168.1.20', '192.168.1.0/24'));
  assert.ok(inEntry('192.168.1.20', '192.168.1.20'));
  assert.not.ok(inEntry('192.168.2.20', '192.168.1.0/24'));
  assert.ok(inEntry('fd00:ab:cd::20', 'fd00:ab:cd::/48'));
  assert.not.ok(inEntry('fd00:ab:cd::20', '192.168.1.0/24'));
});

// ---------------------------------------------------------------- neighbours

const ARP = `IP address       HW type     Flags       HW address            Mask     Device
192.168.1.20     0x1         0x2         aa:bb:cc:dd:ee:01     *        br-lan
192.168.1.21     0x1         0x0         00:00:00:00:00:00     *        br-lan
10.0.2.2         0x1         0x2         02:00:00:00:00:02     *        eth1
`;
const NEIGH = `fd00:ab:cd:0:0:0:0:20 dev br-lan lladdr AA:BB:CC:DD:EE:01 REACHABLE
fe80::a8bb:ccff:fedd:ee01 dev br-lan lladdr aa:bb:cc:dd:ee:01 router STALE
fd00:ab:cd::99 dev br-lan FAILED
`;

test('neighbour tables: /proc/net/arp and ip -6 neigh, incomplete and link-local entries left out', () => {
  assert.equal(parseArp(ARP), [{ address: '192.168.1.20', mac: 'aa:bb:cc:dd:ee:01' }, { address: '10.0.2.2', mac: '02:00:00:00:00:02' }]);
  assert.equal(parseIpNeigh(NEIGH), [{ address: 'fd00:ab:cd::20', mac: 'aa:bb:cc:dd:ee:01' }], 'link-local and failed entries left out');
});

test('a host given by one address or its MAC is known by all of them', () => {
  const n: Neighbour[] = [...parseArp(ARP), ...parseIpNeigh(NEIGH)];
  const all = { ipv4: ['192.168.1.20'], ipv6: ['fd00:ab:cd::20'], macs: ['aa:bb:cc:dd:ee:01'] };

  assert.equal(identify('192.168.1.20', n), { given: '192.168.1.20', ...all });
  assert.equal(identify('aa:bb:cc:dd:ee:01', n), { given: 'aa:bb:cc:dd:ee:01', ...all });
  assert.equal(identify('fd00:ab:cd::20', n), { given: 'fd00:ab:cd::20', ...all });
  assert.equal(identify('192.168.1.77', n), { given: '192.168.1.77', ipv4: ['192.168.1.77'], ipv6: [], macs: [] });
});

// ---------------------------------------------------------------- conclusion

test("the conclusion: the server's answer next to the verdict", () => {
  const v = (passes: boolean | null) => ({ passes, code: 'x', message: 'because' });

  assert.equal(conclude('pptp', true, undefined, undefined).code, 'server_answers');
  assert.equal(conclude('pptp', false, undefined, undefined).code, 'server_silent');
  assert.equal(conclude('l2tp', true, v(true), 'pc').code, 'works');
  assert.equal(conclude('l2tp', true, v(false), 'pc'), { code: 'router_blocks', message: "The server answers L2TP, but this router's settings block pc: because" });
  assert.equal(conclude('l2tp', false, v(true), 'pc').code, 'server_silent');
  assert.equal(conclude('ipsec', false, v(false), 'pc').code, 'both_fail');
  assert.equal(conclude('ipsec', true, v(null), 'pc').code, 'cannot_tell');
});

test.run();
