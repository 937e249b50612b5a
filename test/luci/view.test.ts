// The LuCI page: it compiles as LuCI compiles views, uses only the classes
// it requires and only their public members (luci.ts keeps the list), maps
// the UCI options the engine reads, shows status and sessions from the
// daemon's ubus replies (model.ts shapes), words diagnostics by code, and
// passes every piece of text through _().

import { readFileSync } from 'node:fs';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { Diagnostic } from '../../firmware/core/diag.ts';
import type { Session, Status } from '../../firmware/core/model.ts';
import type { ProbeReport } from '../../firmware/core/probe/report.ts';
import { parseUci } from '../../firmware/core/uci/parse.ts';
import { compile, El, Luci, requires, runView, ubusReply, VIEW, type HostHint, type Ubus } from './luci.ts';

const source = readFileSync(VIEW, 'utf8');

const counter = (packets: number, bytes: number) => ({ packets, bytes });

function status(over: Partial<Status> = {}): Status {
  return {
    version: '1.0.0',
    enabled: true,
    applied: true,
    log: false,
    inside: { zones: ['lan'], devices: ['br-lan'] },
    outside: { zones: ['wan'], devices: ['eth1'] },
    helper: { pptp: 'missing' },
    protocols: {
      pptp: { enabled: true, family: 'any', hosts: [], passed: counter(120, 34_000), dropped: counter(0, 0) },
      l2tp: { enabled: false, family: 'ipv4', hosts: ['192.168.1.20', 'aa:bb:cc:dd:ee:01'], passed: counter(0, 0), dropped: counter(7, 980) },
      ipsec: { enabled: true, family: 'ipv6', hosts: [], passed: counter(3, 1_572_864), dropped: counter(0, 0) },
    },
    servers: [],
    last_apply: {
      time: 1_700_000_000,
      ok: false,
      duration_ms: 42,
      diagnostics: [{ severity: 'error', code: 'nft_failed', message: 'nft failed to load the ruleset; the previous rules stay in place:\nError: Could not process rule' }],
    },
    restores: { count: 2, recent: [{ time: 1_700_000_100, trigger: 'watchdog', lost: 'table inet vpn_passthrough is gone', event: 'delete table inet vpn_passthrough (by process 4242 (nft))' }] },
    diagnostics: [
      { severity: 'error', code: 'invalid_family', field: 'vpn-passthrough.l2tp.family', value: 'ipv5', message: "must be 'any', 'ipv4' or 'ipv6'" },
      { severity: 'warning', code: 'some_future_code', message: 'A message from a newer daemon.' },
    ],
    ...over,
  };
}

/** A SessionsReport with the session fields the page shows. */
const SESSIONS: { sessions: Pick<Session, 'protocol' | 'inside' | 'outside' | 'transport' | 'helper' | 'packets' | 'bytes' | 'age'>[]; warnings: Diagnostic[]; skipped: number } = {
  sessions: [
    { protocol: 'pptp', inside: '192.168.1.20', outside: '198.51.100.7', transport: 'gre', helper: true, packets: 10, bytes: 2048, age: 30 },
    { protocol: 'ipsec', inside: 'fd00:ab:cd::20', outside: '2001:db8::7', transport: 'nat-t', helper: null, packets: null, bytes: null, age: null },
  ],
  warnings: [],
  skipped: 0,
};

const HOSTS: HostHint[] = [
  { mac: 'aa:bb:cc:dd:ee:01', name: 'laptop', ipv4: '192.168.1.20', ipv6: 'fd00:ab:cd::20' },
  { mac: 'aa:bb:cc:dd:ee:02', ipv4: '192.168.1.21' },
];

/** The daemon as rpcd would answer: data, or a ubus status code. */
function daemon(replies: { status?: unknown; sessions?: unknown } = {}): Ubus & { sets: unknown[] } {
  const sets: unknown[] = [];
  const ubus = (object: string, method: string, args: Record<string, unknown>) => {
    assert.is(object, 'vpn-passthrough');
    if (method === 'status' || method === 'apply') return replies.status ?? status();
    if (method === 'sessions') return replies.sessions ?? SESSIONS;
    if (method === 'set') return (sets.push(args), status());

    return 3; // METHOD_NOT_FOUND
  };

  return Object.assign(ubus, { sets });
}

const text = (node: El) => node.textContent;
const buttons = (node: El, label: string) => node.find((e) => e.tag === 'button' && e.textContent === label);

test('the view compiles as LuCI compiles it, and requires only LuCI classes', () => {
  assert.type(compile(source), 'function');
  assert.equal(requires(source).map((r) => r.module), ['view', 'dom', 'form', 'network', 'poll', 'rpc', 'uci', 'ui']);
  assert.match(source, /^'use strict';\n'require view';/);
});

test('a syntax error would be found', () => {
  assert.throws(() => compile(`${source}\n}`), SyntaxError);
});

test('settings: a form.Map over the config the engine reads, one section per protocol', async () => {
  const luci = new Luci(daemon(), HOSTS);

  await runView(source, luci);
  const map = luci.maps[0]!;

  assert.is(luci.maps.length, 1);
  assert.is(map.config, 'vpn-passthrough');

  const named = map.sections.filter((s) => s.class === 'NamedSection');

  assert.equal(named.map((s) => s.args.slice(0, 2)), [['globals', 'globals'], ['pptp', 'protocol'], ['l2tp', 'protocol'], ['ipsec', 'protocol']]);
  assert.equal(named[0]!.options.map((o) => [o.class, o.name, o.props.rmempty]), [['Flag', 'enabled', false], ['Flag', 'log', false]]);

  const covers: Record<string, RegExp[]> = { pptp: [/TCP 1723/, /GRE/], l2tp: [/UDP 1701/], ipsec: [/UDP 500\b/, /UDP 4500/, /ESP/, /AH/] };

  for (const s of named.slice(1)) {
    const name = s.args[0] as string;
    const [enabled, family, host] = s.options;

    for (const re of covers[name]!) assert.match(String(s.args[3]), re, `${name} says what it covers`);
    assert.equal([enabled!.class, enabled!.name, enabled!.props.rmempty, enabled!.props.default], ['Flag', 'enabled', false, '1']);
    assert.equal([family!.class, family!.name, family!.choices.map((c) => c[0])], ['ListValue', 'family', ['any', 'ipv4', 'ipv6']]);
    assert.equal([host!.class, host!.name, host!.props.datatype], ['DynamicList', 'host', 'or(ipmask,macaddr)']);
    // Hidden options keep their values when a protocol is switched off.
    assert.equal([family!.props.retain, host!.props.retain], [true, true]);
    assert.equal(host!.depends, [['enabled', '1']]);
    // The router's known hosts are offered, as the firewall pages do.
    assert.equal(host!.choices, [
      ['192.168.1.20', '192.168.1.20 (laptop)'],
      ['fd00:ab:cd::20', 'fd00:ab:cd::20 (laptop)'],
      ['aa:bb:cc:dd:ee:01', 'aa:bb:cc:dd:ee:01 (laptop)'],
      ['192.168.1.21', '192.168.1.21 (aa:bb:cc:dd:ee:02)'],
      ['aa:bb:cc:dd:ee:02', 'aa:bb:cc:dd:ee:02 (192.168.1.21)'],
    ]);
  }
});

test('a Save with nothing changed stages nothing for the shipped config (LuCI removes a value equal to its default unless rmempty is off)', async () => {
  // form.js AbstractValue.parse(): a form value equal to the option's default
  // is removed when rmempty (true unless set) or optional; Flag.parse() the same.
  const luci = new Luci(daemon(), HOSTS);

  await runView(source, luci);
  const shipped = parseUci(readFileSync('files/etc/config/vpn-passthrough', 'utf8'));

  for (const s of luci.maps[0]!.sections.filter((x) => x.class === 'NamedSection')) {
    const section = shipped.sections.find((x) => x.name === s.args[0])!;

    for (const o of s.options) {
      const value = section.options.get(o.name);
      const rmempty = o.props.rmempty ?? true;

      if (value !== undefined && value === o.props.default) assert.ok(!rmempty && !o.props.optional, `a Save would delete vpn-passthrough.${section.name}.${o.name}='${value}' (its default): set rmempty = false`);
    }
  }
});

test('status: applied, helper, counters, last apply error, diagnostics by code', async () => {
  const luci = new Luci(daemon(), HOSTS);
  const { node } = await runView(source, luci);
  const page = text(node);

  assert.match(page, /Rules applied\./);
  assert.match(page, /PPTP helper: missing\. Install kmod-nf-nathelper-extra/);
  assert.match(page, /120 connections/);
  assert.match(page, /7 packets \(980 B\)/);
  assert.match(page, /3 connections/);
  assert.match(page, /192\.168\.1\.20, aa:bb:cc:dd:ee:01/);
  assert.match(page, /Applying failed .* \(after 42 ms\)\./);
  // Known codes in the page's own words (translatable), unknown ones as sent.
  assert.match(page, /nftables failed to load the rules; the previous rules stay in place: nft failed/);
  assert.match(page, /vpn-passthrough\.l2tp\.family = ipv5: must be any, ipv4 or ipv6\./);
  assert.not.match(page, /must be 'any', 'ipv4' or 'ipv6'/);
  assert.match(page, /A message from a newer daemon\./);
  assert.match(page, /Restored 2 times since boot: .*Last on .*: table inet vpn_passthrough is gone\. Noticed by: the service's watchdog/);
  assert.equal(buttons(node, 'Block now').length, 2);
  assert.equal(buttons(node, 'Allow now').length, 1);
});

test('a configuration error that failed the last apply is shown once, not again among the current diagnostics', async () => {
  const invalid: Diagnostic = { severity: 'error', code: 'invalid_family', field: 'vpn-passthrough.l2tp.family', value: 'ipv5', message: "must be 'any', 'ipv4' or 'ipv6'" };
  const st = status({ last_apply: { time: 1_700_000_000, ok: false, duration_ms: 3, diagnostics: [invalid] }, diagnostics: [invalid] });
  const { node } = await runView(source, new Luci(daemon({ status: st })));

  assert.is(text(node).match(/vpn-passthrough\.l2tp\.family = ipv5: must be any, ipv4 or ipv6\./g)?.length, 1);
});

test('the hint says what passthrough is for and that several IPsec clients need NAT-T', async () => {
  const { node } = await runView(source, new Luci(daemon()));
  const page = text(node);

  assert.match(page, /VPN clients inside your network reaching a VPN server outside/);
  assert.match(page, /Several IPsec clients .* same VPN server need NAT traversal \(NAT-T, UDP 4500\)/);
});

test('sessions: a row each, and a clean empty state (also when the daemon has no sessions method yet)', async () => {
  let { node } = await runView(source, new Luci(daemon()));

  assert.match(text(node), /192\.168\.1\.20198\.51\.100\.7gre/);
  assert.match(text(node), /fd00:ab:cd::202001:db8::7nat-t/);

  for (const sessions of [{ sessions: [], warnings: [], skipped: 0 }, 3]) {
    ({ node } = await runView(source, new Luci(daemon({ sessions }))));
    assert.match(text(node), /No VPN sessions pass through the router right now\./);
  }
});

test('the daemon not running is said plainly, with the runtime package, and without claiming its rules are gone', async () => {
  // rpcd: an object nobody publishes is a JSON-RPC error (-32000 Object not found); a bare status too.
  const gone = () => {
    throw new Error('Object not found');
  };

  for (const luci of [new Luci(gone), new Luci(daemon({ status: 4 }))]) {
    const { node, view } = await runView(source, luci);

    assert.match(text(node), /The vpn-passthrough service is not running.*package txiki/);
    // The daemon leaves its table loaded when it ends (only stopping the service removes it).
    assert.match(text(node), /if it ended otherwise, the rules it last loaded may still be in the kernel/);
    assert.not.match(text(node), /not running, so firewall4 alone decides/);
    (view as unknown as ProbeView).probeInputs.server!.value = '203.0.113.7';
    await (buttons(node, 'Test')[0]!.attrs.click as () => Promise<void>)();
    assert.is(text((view as unknown as ProbeView).probeNode), 'The service could not test the server (is it running?).');
  }
});

test('no restores since boot: nothing said about them (also from a daemon without the field)', async () => {
  for (const restores of [{ count: 0, recent: [] }, undefined]) {
    const { node } = await runView(source, new Luci(daemon({ status: { ...status(), restores } })));

    assert.not.match(text(node), /Restored/);
  }
});

test('a switched-off master switch is shown', async () => {
  const { node } = await runView(source, new Luci(daemon({ status: status({ enabled: false, applied: false }) })));

  assert.match(text(node), /Passthrough control is switched off/);
  assert.match(text(node), /Rules not applied\./);
  // Every protocol passes then (firewall4 alone decides), whatever its own switch says.
  assert.is(text(node).match(/passes \(control off\)/g)?.length, 3);
  for (const b of [...buttons(node, 'Block now'), ...buttons(node, 'Allow now')]) assert.is(b.attrs.disabled, true);
});

test('poll refreshes status and sessions in place', async () => {
  let reply = status();
  const luci = new Luci((o, m, a) => (m === 'status' ? reply : daemon()(o, m, a)));
  const { node } = await runView(source, luci);

  assert.equal(luci.polls.map((p) => p.interval), [5]);
  reply = status({ applied: false });
  luci.phase = 'poll';
  await luci.polls[0]!.fn();
  assert.match(text(node), /Rules not applied\./);
  assert.equal(luci.calls.filter((c) => c.phase === 'poll').map((c) => c.method), ['status', 'sessions']);
});

test('Block now / Allow now call set and reload the form; Apply again calls apply', async () => {
  const ubus = daemon();
  const luci = new Luci(ubus);
  const { node } = await runView(source, luci);

  luci.phase = 'action';
  await (buttons(node, 'Block now')[0]!.attrs.click as () => Promise<void>)();
  assert.equal(ubus.sets, [{ protocol: 'pptp', enabled: false }]);
  // The user's unsaved edits are staged first (form save), then the form shows what the service wrote.
  assert.equal(luci.uciCalls.filter((c) => c.phase === 'action').map((c) => [c.method, c.config]), [['save', 'vpn-passthrough'], ['load', 'vpn-passthrough'], ['unload', 'vpn-passthrough'], ['load', 'vpn-passthrough']]);
  assert.is(luci.maps[0]!.resets, 1);

  await (buttons(node, 'Allow now')[0]!.attrs.click as () => Promise<void>)();
  assert.equal(ubus.sets[1], { protocol: 'l2tp', enabled: true });

  await (buttons(node, 'Apply again')[0]!.attrs.click as () => Promise<void>)();
  assert.ok(luci.calls.some((c) => c.method === 'apply' && c.phase === 'action'));
});

test('a refused set shows the daemon\'s reasons, worded by code, and changes nothing', async () => {
  // As the daemon refuses: INVALID_ARGUMENT, and data saying why before it.
  const why = { error: "error: vpn-passthrough.pptp.enabled='x': ... [config_write_failed]", diagnostics: [{ severity: 'error', code: 'config_write_failed', field: 'vpn-passthrough', message: 'read-only file system' }] };
  const luci = new Luci((o, m, a) => (m === 'set' ? ubusReply(2, why) : daemon()(o, m, a)));
  const { node } = await runView(source, luci);

  await (buttons(node, 'Block now')[0]!.attrs.click as () => Promise<void>)();
  assert.is(luci.notifications.length, 1);
  assert.is(text(luci.notifications[0]!), 'vpn-passthrough: The configuration could not be saved: read-only file system');
  assert.is(luci.maps[0]!.resets, 0);
});

test('a refusal without data, or a call rpcd denies: one plain line, never LuCI\'s stack trace', async () => {
  const bare = new Luci((o, m, a) => (m === 'set' ? 2 : daemon()(o, m, a)));
  const denied = new Luci((o, m, a) => {
    if (m === 'apply') throw new Error('Access denied');

    return daemon()(o, m, a);
  });

  await (buttons((await runView(source, bare)).node, 'Block now')[0]!.attrs.click as () => Promise<void>)();
  await (buttons((await runView(source, denied)).node, 'Apply again')[0]!.attrs.click as () => Promise<void>)();
  assert.is(text(bare.notifications[0]!), 'The service refused (ubus status 2).');
  assert.is(text(denied.notifications[0]!), 'RPC call to vpn-passthrough/apply failed with error -32002: Access denied');
});

test('read-only users get disabled buttons', async () => {
  const { node } = await runView(source, new Luci(daemon(), [], { readonly: true }));

  for (const b of node.find((e) => e.tag === 'button')) assert.is(b.attrs.disabled, true, b.textContent);
});

test('every piece of text goes through _()', async () => {
  const diagnostics: Diagnostic[] = [{ severity: 'warning', code: 'pptp_helper_missing', message: 'x' }];
  const luci = new Luci(daemon({ status: status({ diagnostics }) }), HOSTS, { mark: true });
  const { node } = await runView(source, luci);
  // What comes from the router's data may stay as it is.
  const data = /^(\s|[-,.:()=]|\d+(\.\d+)?|[\d.]+ ?(B|KiB|MiB)|192\.168\.1\.2[01]|aa:bb:cc:dd:ee:0[12]|fd00:ab:cd::20|198\.51\.100\.7|2001:db8::7|gre|nat-t|laptop|vpn-passthrough\.l2tp\.family|ipv5|x|\d+\/\d+\/\d+,? [\d:]+( [AP]M)?)*$/;

  for (const t of node.find((e) => e.tag === '#text').map((e) => e.text!)) {
    const outside = t.replace(/⟦[^⟧]*⟧/g, '');

    assert.ok(data.test(outside), `text not through _(): ${JSON.stringify(t)}`);
  }
  const map = luci.maps[0]!;

  for (const s of [map.title, map.description, ...map.sections.flatMap((s) => [s.args[2], s.args[3], ...s.options.flatMap((o) => [o.title, o.description, ...o.choices.filter(([k]) => /^(any|ipv4|ipv6)$/.test(k)).map((c) => c[1])])])]) {
    if (typeof s === 'string' && !/^(globals|protocol|pptp|l2tp|ipsec)$/.test(s)) assert.match(s, /^⟦.*⟧$/s, `form text not through _(): ${s}`);
  }
});

const SERVERS: Status['servers'] = [
  { name: 'office', enabled: true, protocol: 'ipsec', host: '192.168.1.20', host6: 'fd00:ab:cd::20', allow: ['198.51.100.0/24'], forwards: 'UDP 500 + UDP 4500 + ESP', active: true, connections: counter(12, 3000), refused: counter(4, 400) },
  { name: 'legacy', enabled: false, protocol: 'pptp', host: '192.168.1.30', host6: null, allow: [], forwards: 'TCP 1723 + GRE', active: false, connections: counter(0, 0), refused: counter(0, 0) },
];
const SERVER_DIAG: Diagnostic = { severity: 'warning', code: 'server_allow_no_ipv6', field: 'vpn-passthrough.office.allow', value: '198.51.100.0/24', message: 'lists only IPv4 sources: nobody reaches the server over IPv6' };

/** The daemon with servers; check_server answers `check`, the other calls are recorded. */
function serverDaemon(check: unknown = { ok: true, diagnostics: [] }): Ubus & { calls: [string, Record<string, unknown>][] } {
  const calls: [string, Record<string, unknown>][] = [];
  const ubus = (_object: string, method: string, args: Record<string, unknown>) => {
    if (method.endsWith('_server')) calls.push([method, args]);
    if (method === 'check_server') return check;

    return method === 'sessions' ? SESSIONS : status({ servers: SERVERS, diagnostics: [SERVER_DIAG], last_apply: null });
  };

  return Object.assign(ubus, { calls });
}

const widget = (luci: Luci, id: string) => luci.widgets.filter((w) => w.options.id === id).at(-1)!;

test('servers: a row each with what it forwards, to whom, from where, its state and counters; their diagnostics beside them', async () => {
  const { node } = await runView(source, new Luci(serverDaemon()));
  const page = text(node);

  assert.match(page, /VPN servers behind this router/);
  assert.match(page, /officeIPsecUDP 500 \+ UDP 4500 \+ ESP192\.168\.1\.20, fd00:ab:cd::20198\.51\.100\.0\/24forwarded12 connections4 packets/);
  assert.match(page, /legacyPPTPTCP 1723 \+ GRE192\.168\.1\.30anyonedisabled0 connections-/);
  assert.match(page, /vpn-passthrough\.office\.allow = 198\.51\.100\.0\/24: lists only IPv4 sources: nobody reaches the server over IPv6\./);
  assert.is(page.match(/lists only IPv4 sources/g)?.length, 1, 'shown once, with the servers');
  assert.equal([buttons(node, 'Edit').length, buttons(node, 'Disable').length, buttons(node, 'Enable').length, buttons(node, 'Remove').length, buttons(node, 'Add server').length], [2, 1, 1, 2, 1]);
});

test('servers: without any, the section says so and offers to add one', async () => {
  const { node } = await runView(source, new Luci(daemon()));

  assert.match(text(node), /No VPN servers behind this router yet\./);
  assert.equal(buttons(node, 'Add server').length, 1);
});

test('Add server: the dialog asks the daemon first and shows its diagnostics by the fields; nothing is saved', async () => {
  const check = { ok: false, diagnostics: [{ severity: 'error', code: 'server_host_not_inside', field: 'vpn-passthrough.vpn1.host', value: '10.0.2.50', message: 'is not in an inside network (192.168.1.0/24): the server must be a host behind the router' }] };
  const ubus = serverDaemon(check);
  const luci = new Luci(ubus);
  const { node } = await runView(source, luci);

  luci.phase = 'action';
  await (buttons(node, 'Add server')[0]!.attrs.click as () => Promise<void>)();
  assert.match(text(luci.modal!), /Add a VPN server/);
  assert.is(widget(luci, 'vpnpt-server-name').value, 'vpn1', 'a free name is offered');
  widget(luci, 'vpnpt-server-protocol').setValue('pptp');
  widget(luci, 'vpnpt-server-host').setValue('10.0.2.50');
  await (buttons(luci.modal!, 'Save')[0]!.attrs.click as () => Promise<void>)();

  assert.equal(ubus.calls, [['check_server', { name: 'vpn1', enabled: true, protocol: 'pptp', host: '10.0.2.50', host6: '', allow: [] }]]);
  assert.match(text(luci.modal!), /vpn-passthrough\.vpn1\.host = 10\.0\.2\.50: cannot be the VPN server: is not in an inside network \(192\.168\.1\.0\/24\)/);
});

test('Add server: with nothing wrong it saves through set_server, closes the dialog and refreshes', async () => {
  const ubus = serverDaemon();
  const luci = new Luci(ubus);
  const { node } = await runView(source, luci);

  await (buttons(node, 'Add server')[0]!.attrs.click as () => Promise<void>)();
  widget(luci, 'vpnpt-server-name').setValue('home');
  widget(luci, 'vpnpt-server-host').setValue('192.168.1.40');
  widget(luci, 'vpnpt-server-allow').setValue(['198.51.100.7']);
  luci.phase = 'save';
  await (buttons(luci.modal!, 'Save')[0]!.attrs.click as () => Promise<void>)();

  const values = { name: 'home', enabled: true, protocol: 'ipsec', host: '192.168.1.40', host6: '', allow: ['198.51.100.7'] };

  assert.equal(ubus.calls, [['check_server', values], ['set_server', values]]);
  assert.is(luci.modal, null);
  assert.ok(luci.calls.some((c) => c.method === 'status' && c.phase === 'save'), 'refreshed');
});

test('the dialog: each label names its input (ui.js ids: widget.<id>, a checkbox data-widget-id), and Allowed sources is a typed list, not a dropdown', async () => {
  const luci = new Luci(serverDaemon());
  const { node } = await runView(source, luci);

  await (buttons(node, 'Add server')[0]!.attrs.click as () => Promise<void>)();
  const labels = luci.modal!.find((e) => e.tag === 'label' && e.attrs['class'] === 'cbi-value-title');

  assert.equal(labels.map((l) => l.textContent), ['Name', 'Enabled', 'Protocol', 'Inside host (IPv4)', 'Inside host (IPv6)', 'Allowed sources']);
  for (const l of labels) {
    const target = luci.modal!.find((e) => e.tag !== 'label' && (e.attrs.id === l.attrs['for'] || e.attrs['data-widget-id'] === l.attrs['for']));

    assert.is(target.length, 1, `label ${l.textContent} (for=${String(l.attrs['for'])}) names one element`);
    assert.ok(['input', 'select'].includes(target[0]!.tag), `label ${l.textContent} names an input, not its frame`);
  }
  // ui.DynamicList draws a dropdown for any choice list, even an empty one.
  assert.is(widget(luci, 'vpnpt-server-allow').choices, null);
  assert.is(luci.modal!.find((e) => e.attrs['class'] === 'cbi-dropdown').length, 0);
});

test('Enable of a server the daemon refuses (two servers, one set of ports): its reasons, worded by code', async () => {
  const why = { error: "error: vpn-passthrough.legacy.protocol='pptp': ... [server_conflict]", diagnostics: [{ severity: 'error', code: 'server_conflict', field: 'vpn-passthrough.legacy.protocol', value: 'pptp', message: "forwards TCP 1723 + GRE like server 'office'" }] };
  const ubus = serverDaemon();
  const luci = new Luci((o, m, a) => (m === 'set_server' ? ubusReply(2, why) : ubus(o, m, a)));
  const { node } = await runView(source, luci);

  await (buttons(node, 'Enable')[0]!.attrs.click as () => Promise<void>)();
  assert.is(luci.notifications.length, 1);
  assert.is(text(luci.notifications[0]!), "vpn-passthrough.legacy.protocol = pptp: Two servers need the same ports on the router's outside address: forwards TCP 1723 + GRE like server 'office'");
});

test('Edit fills the dialog with the server (its name fixed); Disable and Remove go to the daemon', async () => {
  const ubus = serverDaemon();
  const luci = new Luci(ubus);
  const { node } = await runView(source, luci);

  await (buttons(node, 'Edit')[0]!.attrs.click as () => Promise<void>)();
  assert.equal(['name', 'enabled', 'protocol', 'host', 'host6', 'allow'].map((f) => widget(luci, `vpnpt-server-${f}`).value), ['office', '1', 'ipsec', '192.168.1.20', 'fd00:ab:cd::20', ['198.51.100.0/24']]);
  assert.is(widget(luci, 'vpnpt-server-name').options.disabled, true);
  assert.equal(Object.keys(widget(luci, 'vpnpt-server-protocol').choices as object), ['ipsec', 'l2tp', 'pptp']);
  await (buttons(luci.modal!, 'Cancel')[0]!.attrs.click as () => Promise<void>)();
  assert.is(luci.modal, null);

  await (buttons(node, 'Disable')[0]!.attrs.click as () => Promise<void>)();
  await (buttons(node, 'Remove')[1]!.attrs.click as () => Promise<void>)();
  assert.match(text(luci.modal!), /Remove VPN server legacy\?/);
  await (buttons(luci.modal!, 'Remove')[0]!.attrs.click as () => Promise<void>)();
  assert.equal(ubus.calls, [['set_server', { name: 'office', enabled: false, protocol: undefined, host: undefined, host6: undefined, allow: undefined }], ['delete_server', { name: 'legacy' }]]);
  assert.is(luci.modal, null);
});

// ---------------------------------------------------------------- the sessions view explains itself

const session = (over: Partial<Session>): Partial<Session> => ({ protocol: 'ipsec', inside: '192.168.1.20', outside: '198.51.100.7', transport: 'nat-t', helper: false, packets: null, bytes: null, age: null, ...over });
const headers = (node: El) => node.find((e) => e.tag === 'th').map((e) => e.textContent);

test('sessions: Traffic and Age only where conntrack keeps them, and the page says which sysctl would', async () => {
  const bare = { sessions: [session({})], warnings: [], skipped: 0, conntrack: { accounting: false, timestamps: false } };
  let { node } = await runView(source, new Luci(daemon({ sessions: bare })));

  assert.ok(headers(node).includes('Helper'));
  assert.not.ok(headers(node).includes('Traffic') || headers(node).includes('Age'), headers(node).join(','));
  assert.match(text(node), /Traffic is not shown: connection tracking keeps no byte counts on this router \(sysctl net\.netfilter\.nf_conntrack_acct=1/);
  assert.match(text(node), /Age is not shown: connection tracking keeps no start times on this router \(sysctl net\.netfilter\.nf_conntrack_timestamp=1/);

  // Accounting on (OpenWrt's default), timestamps off: Traffic only.
  ({ node } = await runView(source, new Luci(daemon({ sessions: { ...bare, sessions: [session({ packets: 1, bytes: 120 })], conntrack: { accounting: true, timestamps: false } } }))));
  assert.ok(headers(node).includes('Traffic') && !headers(node).includes('Age'));
  assert.match(text(node), /1 packet \(120 B\)/);
  assert.not.match(text(node), /Traffic is not shown/);

  // No sessions: no columns to explain.
  ({ node } = await runView(source, new Luci(daemon({ sessions: { ...bare, sessions: [] } }))));
  assert.not.match(text(node), /is not shown/);
});

test('sessions: the helper column says n/a where no helper exists (L2TP, IPsec, PPTP over IPv6)', async () => {
  const sessions = [
    session({ protocol: 'pptp', transport: 'control', helper: true }),
    session({ protocol: 'pptp', transport: 'gre', inside: '192.168.1.21', helper: false }),
    session({ protocol: 'pptp', transport: 'control', inside: '192.168.1.22', helper: null }),
    session({ protocol: 'pptp', transport: 'control', inside: 'fd00:ab:cd::20', outside: '2001:db8::7', helper: false }),
    session({ protocol: 'l2tp', transport: 'l2tp' }),
    session({ protocol: 'ipsec', transport: 'esp' }),
  ];
  const { node } = await runView(source, new Luci(daemon({ sessions: { sessions, warnings: [], skipped: 0 } })));
  const helpers = node.find((e) => e.tag === 'td' && e.attrs['data-title'] === 'Helper').map((e) => e.textContent);

  assert.equal(helpers, ['yes', 'no', '?', 'n/a', 'n/a', 'n/a']);
});

test('plural forms: 1 connection, 1 packet, 2 connections, restored 1 time', async () => {
  const st = status();

  st.restores = { count: 1, recent: st.restores!.recent };
  st.protocols.pptp.passed = counter(1, 60);
  st.protocols.l2tp.dropped = counter(1, 60);
  st.protocols.ipsec.passed = counter(2, 60);
  const { node } = await runView(source, new Luci(daemon({ status: st })));

  assert.match(text(node), /1 connection[^s]/);
  assert.match(text(node), /1 packet \(60 B\)/);
  assert.match(text(node), /2 connections/);
  assert.match(text(node), /Restored 1 time since boot:/);
});

test('the raw-ESP collision names the server and every inside host, the loser too', async () => {
  const warnings: Diagnostic[] = [{ severity: 'warning', code: 'esp_collision', field: 'vpn-passthrough.ipsec', value: '10.0.2.2', hosts: ['192.168.1.20', '192.168.1.21'], message: 'x' }];
  const { node } = await runView(source, new Luci(daemon({ sessions: { sessions: [session({ transport: 'esp' })], warnings, skipped: 0 } })));

  assert.match(text(node), /Inside hosts 192\.168\.1\.20, 192\.168\.1\.21 all send raw ESP to the IPsec server 10\.0\.2\.2: through NAT only one of them can work/);
  assert.not.match(text(node), /vpn-passthrough\.ipsec = /, 'no field = value prefix: the words name it');
});

// ---------------------------------------------------------------- Test a VPN server

/** A report as the daemon sends it (shapes of core/probe/report.ts). */
const REPORT: ProbeReport = {
  server: 'vpn.example.com', address: '198.51.100.7', addresses: ['198.51.100.7'], family: 'ipv4', timeout_ms: 3000, answered: false,
  protocols: {
    pptp: {
      answered: true,
      exchanges: [{ transport: 'tcp', port: 1723, outcome: 'answered', answered: true, rtt_ms: 12.5, connect_ms: 3, attempts: 1, reply: { message: 'Start-Control-Connection-Reply', result: 1, result_text: 'successful channel establishment', error: 0, error_text: 'none', protocol_version: '1.0', host_name: 'local', vendor: 'linux', firmware: 1, max_channels: 1 } }],
      verdict: { passes: false, code: 'protocol_off', field: 'vpn-passthrough.pptp.enabled', value: '0', message: 'PPTP passthrough is off' },
      conclusion: { code: 'router_blocks', message: 'x' },
    },
    l2tp: {
      answered: false,
      exchanges: [{ transport: 'udp', port: 1701, outcome: 'no_answer', answered: false, rtt_ms: null, attempts: 3, error: 'no reply within 3 s' }],
      verdict: { passes: true, code: 'all_hosts', message: 'L2TP passes for every inside host' },
      conclusion: { code: 'server_silent', message: 'x' },
    },
    ipsec: {
      answered: true,
      exchanges: [
        { transport: 'udp', port: 500, outcome: 'answered', answered: true, rtt_ms: 2.1, attempts: 2, reply: { version: '2.0', exchange: 'IKE_SA_INIT', response: true, notifies: [], proposal: ['AES_CBC_128', 'HMAC_SHA2_256_128', 'PRF_HMAC_SHA2_256', 'MODP_3072'], nat_detection: true, fragmentation: false, vendor_ids: [] }, nat: { router_side: true, server_side: false } },
        { transport: 'udp', port: 4500, outcome: 'refused', answered: false, rtt_ms: null, attempts: 1, error: 'ECONNREFUSED' },
      ],
      nat_t: false,
      verdict: { passes: true, code: 'host_listed', field: 'vpn-passthrough.ipsec.host', value: '192.168.1.20', message: 'x' },
      conclusion: { code: 'works', message: 'x' },
    },
  },
  host: { given: '192.168.1.20', ipv4: ['192.168.1.20'], ipv6: [], macs: ['aa:bb:cc:dd:ee:01'] },
  warnings: [{ severity: 'warning', code: 'esp_in_use', field: 'vpn-passthrough.ipsec', value: '198.51.100.7', message: 'x', hosts: ['192.168.1.21', '192.168.1.22'] }],
};

function probing(reply: unknown = REPORT): Ubus & { probes: unknown[] } {
  const probes: unknown[] = [];
  const base = daemon();

  return Object.assign((o: string, m: string, a: Record<string, unknown>) => (m === 'probe' ? (probes.push(a), typeof reply === 'function' ? (reply as () => unknown)() : reply) : base(o, m, a)), { probes });
}

type ProbeView = { probeInputs: Record<string, { value?: string }>; probeNode: El };

async function press(reply: unknown, values: Record<string, string>) {
  const ubus = probing(reply);
  const luci = new Luci(ubus, HOSTS);
  const { view, node } = await runView(source, luci);

  for (const [k, v] of Object.entries(values)) (view as unknown as ProbeView).probeInputs[k]!.value = v;
  luci.phase = 'action';
  await (buttons(node, 'Test')[0]!.attrs.click as () => Promise<void>)();

  return { ubus, luci, view: view as unknown as ProbeView & Record<string, (...a: unknown[]) => unknown>, node };
}

test('the "Test a VPN server" box: server, protocol, and an inside host from the known hosts', async () => {
  const { node } = await runView(source, new Luci(daemon(), HOSTS));
  const box = node.find((e) => e.tag === 'h3' && e.textContent === 'Test a VPN server');
  const selects = node.find((e) => e.tag === 'select');

  assert.is(box.length, 1);
  assert.equal(selects[0]!.children.map((o) => o.attrs.value), ['', 'pptp', 'l2tp', 'ipsec']);
  assert.equal(selects[1]!.children.map((o) => [o.attrs.value, o.textContent]), [['', '(none)'], ['192.168.1.20', '192.168.1.20 (laptop)'], ['192.168.1.21', '192.168.1.21 (aa:bb:cc:dd:ee:02)']], 'a host without a name: its MAC, not its address twice');
});

test('Test sends server, protocol and host to the daemon and shows the answers next to the verdict and the conclusion', async () => {
  const { ubus, view } = await press(REPORT, { server: ' vpn.example.com ', protocol: '', host: '192.168.1.20' });
  const shown = text(view.probeNode);

  // Empty fields are left out (rpc.js sends JSON, which drops undefined).
  assert.equal(JSON.parse(JSON.stringify(ubus.probes)), [{ server: 'vpn.example.com', host: '192.168.1.20' }]);
  assert.match(shown, /Asked vpn\.example\.com \(198\.51\.100\.7\) from this router\./);
  assert.match(shown, /The server's answerThis router, for 192\.168\.1\.20Conclusion/);
  assert.match(shown, /TCP 1723: answered in 12\.5 ms - Start-Control-Connection-Reply, accepted; server "local", vendor "linux"/);
  assert.match(shown, /blocked: this protocol is switched offThe server answers, but this router blocks this host: change the settings below\./);
  assert.match(shown, /UDP 1701: no answerpassesThe server does not answer, not even this router/);
  assert.match(shown, /UDP 500: answered in 2\.1 ms - IKEv2 IKE_SA_INIT reply: accepts AES_CBC_128\/HMAC_SHA2_256_128\/PRF_HMAC_SHA2_256\/MODP_3072 \(a NAT sits between this router and the server\)/);
  assert.match(shown, /UDP 4500: refused, nothing listens thereNAT-T not available/);
  assert.match(shown, /passes: allowed inside host \(192\.168\.1\.20\)Both sides are fine/);
  assert.match(shown, /192\.168\.1\.21, 192\.168\.1\.22 already send raw ESP to 198\.51\.100\.7: through NAT only one inside host can/);
});

test('Test without a server asks nothing; a bad server or an unknown name is said plainly', async () => {
  const empty = await press(REPORT, { server: '  ' });

  assert.equal(empty.ubus.probes, []);
  assert.match(text(empty.view.probeNode), /Enter the VPN server's address or host name\./);
  // The daemon refuses with data saying why (rpc.js hands that over, not the status).
  assert.is(text((await press(ubusReply(2, { error: 'server: "a b" is not an IPv4/IPv6 address or host name' }), { server: 'a b' })).view.probeNode), 'The server could not be tested: server: "a b" is not an IPv4/IPv6 address or host name');
  assert.is(text((await press(ubusReply(4, { error: 'nx.example: the name does not resolve (NXDOMAIN)' }), { server: 'nx.example' })).view.probeNode), 'The server could not be tested: nx.example: the name does not resolve (NXDOMAIN)');
  // A bare status (no data) still says which.
  assert.match(text((await press(2, { server: 'a b' })).view.probeNode), /This is not an IPv4\/IPv6 address or host name\./);
  assert.match(text((await press(4, { server: 'nx.example' })).view.probeNode), /The server's name does not resolve\./);
});

test('Test when rpcd refuses the call: its reason in one line, and the spinner goes', async () => {
  const { view } = await press(() => {
    throw new Error('Access denied');
  }, { server: '203.0.113.7' });

  assert.is(text(view.probeNode), 'RPC call to vpn-passthrough/probe failed with error -32002: Access denied');
});

test('the result stays through poll and through the form being drawn again', async () => {
  const { luci, view, node } = await press(REPORT, { server: 'vpn.example.com', protocol: 'pptp' });

  luci.phase = 'poll';
  await luci.polls[0]!.fn();
  await (buttons(node, 'Block now')[0]!.attrs.click as () => Promise<void>)();
  assert.match(text(view.probeNode), /Start-Control-Connection-Reply/);
  assert.is(view.probeInputs.server!.value, 'vpn.example.com');
});

test('read-only users cannot test (probe is a write)', async () => {
  const { node } = await runView(source, new Luci(daemon(), [], { readonly: true }));

  assert.is(buttons(node, 'Test')[0]!.attrs.disabled, true);
});

test.run();
