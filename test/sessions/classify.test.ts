// The pure sessions code with plain values: line splitting at every chunk
// boundary, the line parser on both formats, the classifier's rules, large
// generated tables, malformed input, the warnings and the session diff.
// The real-traffic recordings are in recorded.test.ts.

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { Session } from '../../firmware/core/model.ts';
import { SessionCollector, triage } from '../../firmware/core/sessions/classify.ts';
import { parseEntry } from '../../firmware/core/sessions/conntrack.ts';
import { diffSessions, sessionKey } from '../../firmware/core/sessions/diff.ts';
import { LineSplitter, MAX_LINE } from '../../firmware/core/sessions/lines.ts';
import { ipv4Routes, ipv6Routes, type Prefix } from '../../firmware/core/sessions/scope.ts';
import { collectSessions } from '../../firmware/core/sessions/table.ts';
import { parseEspSenders, sessionWarnings } from '../../firmware/core/sessions/warnings.ts';
import { rng } from '../lib/prng.ts';
import { generateTable, tableText } from './generate.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

function splitAll(chunks: Uint8Array[]): { lines: string[]; dropped: number } {
  const s = new LineSplitter();
  const lines: string[] = [];
  const on = (b: Uint8Array, start: number, end: number) => lines.push(dec.decode(b.subarray(start, end)));

  for (const c of chunks) s.push(c, on);
  s.end(on);

  return { lines, dropped: s.dropped };
}

function classify(lines: string[], inside: Prefix[] | null = null, helperShown?: boolean): { sessions: Session[]; entries: number; skipped: number } {
  const c = new SessionCollector({ inside, ...(helperShown === undefined ? {} : { helperShown }) });

  for (const l of lines) c.line(l);

  return { sessions: c.sessions(), entries: c.entries, skipped: c.skipped };
}

// Lines in procfs layout (see generate.ts), built field by field.
const WAN = '10.0.2.15';
const tcp = (src: string, dst: string, sport: number, dport: number, state = 'ESTABLISHED', natTo = WAN) =>
  `ipv4     2 tcp      6 431999 ${state} src=${src} dst=${dst} sport=${sport} dport=${dport} packets=6 bytes=644 src=${dst} dst=${natTo} sport=${dport} dport=${sport} packets=4 bytes=404 [ASSURED] mark=0 zone=0 use=2`;
const udp = (src: string, dst: string, sport: number, dport: number, natTo = WAN, replySrc = dst) =>
  `ipv4     2 udp      17 29 src=${src} dst=${dst} sport=${sport} dport=${dport} [UNREPLIED] src=${replySrc} dst=${natTo} sport=${dport} dport=${sport} mark=0 zone=0 use=2`;
const gre = (src: string, dst: string, client: number, server: number, nat: number) =>
  `ipv4     2 gre      47 179 timeout=30, stream_timeout=180 src=${src} dst=${dst} srckey=0x${client.toString(16)} dstkey=0x${server.toString(16)} packets=3 bytes=120 src=${dst} dst=${WAN} srckey=0x${server.toString(16)} dstkey=0x${nat.toString(16)} packets=3 bytes=135 [ASSURED] mark=0 zone=0 delta-time=7 use=2`;
const esp = (src: string, dst: string) => `ipv4     2 unknown  50 599 src=${src} dst=${dst} [UNREPLIED] src=${dst} dst=${WAN} mark=0 zone=0 use=2`;

test('line splitting: the same lines whatever the chunk boundaries', () => {
  const text = tableText(40, 12, 7);
  const bytes = enc.encode(text);
  const expected = text.split('\n').slice(0, -1);
  const r = rng(3);

  for (let round = 0; round < 200; round++) {
    const chunks: Uint8Array[] = [];

    for (let at = 0; at < bytes.length; ) {
      const n = r.int(1, round < 100 ? 64 : 4000);

      chunks.push(bytes.slice(at, at + n));
      at += n;
    }
    const { lines, dropped } = splitAll(chunks);

    assert.equal(lines, expected);
    assert.is(dropped, 0);
  }
});

test('line splitting: a last line without newline; an overlong line is dropped and counted, its neighbours kept', () => {
  assert.equal(splitAll([enc.encode('a\nb')]).lines, ['a', 'b']);

  const long = 'x'.repeat(MAX_LINE * 3);
  const text = enc.encode(`first\n${long}\nlast\n`);

  for (const size of [1, 100, 5000, text.length]) {
    const chunks = [];

    for (let at = 0; at < text.length; at += size) chunks.push(text.slice(at, at + size));
    assert.equal(splitAll(chunks), { lines: ['first', 'last'], dropped: 1 }, `chunks of ${size}`);
  }
});

test('parser: procfs GRE with its "timeout=30," quirk, both tuples, keys, counters, age', () => {
  const e = parseEntry(gre('192.168.1.10', '10.0.2.2', 0x64, 0x4000, 0xec10))!;

  assert.is(e.proto, 47);
  assert.is(e.family, 'ipv4');
  assert.equal([e.original.srckey, e.original.dstkey, e.reply.srckey, e.reply.dstkey], [0x64, 0x4000, 0x4000, 0xec10]);
  assert.equal([e.original.packets, e.reply.bytes, e.age], [3, 135, 7]);
  assert.is(e.helper, undefined);
});

test('parser: conntrack -L without the family columns, helper=, compressed IPv6', () => {
  const e = parseEntry('tcp      6 431999 ESTABLISHED src=fd00:1::10 dst=fd00:2::2 sport=40000 dport=1723 src=fd00:2::2 dst=fd00:1::10 sport=1723 dport=40000 [ASSURED] mark=0 helper=pptp use=1')!;

  assert.is(e.family, 'ipv6');
  assert.is(e.state, 'ESTABLISHED');
  assert.is(e.helper, 'pptp');
  assert.is(e.original.packets, null);
});

test('classifier: every kind of VPN flow, inside host before NAT, server, ports, call IDs', () => {
  const { sessions } = classify([
    tcp('192.168.1.10', '10.0.2.2', 60432, 1723),
    gre('192.168.1.10', '10.0.2.2', 0x64, 0x4000, 0xec10),
    udp('192.168.1.10', '10.0.2.3', 500, 500),
    udp('192.168.1.10', '10.0.2.3', 4500, 4500),
    esp('192.168.1.11', '10.0.2.4'),
    `ipv4     2 unknown  51 599 src=192.168.1.11 dst=10.0.2.4 src=10.0.2.4 dst=${WAN} mark=0 zone=0 use=2`,
    udp('192.168.1.12', '10.0.2.5', 1701, 1701),
    tcp('192.168.1.10', '10.0.2.2', 50000, 443),
  ]);

  assert.equal(sessions.map((s) => [s.protocol, s.transport, s.inside, s.outside]), [
    ['pptp', 'control', '192.168.1.10', '10.0.2.2'],
    ['pptp', 'gre', '192.168.1.10', '10.0.2.2'],
    ['l2tp', 'l2tp', '192.168.1.12', '10.0.2.5'],
    ['ipsec', 'ike', '192.168.1.10', '10.0.2.3'],
    ['ipsec', 'nat-t', '192.168.1.10', '10.0.2.3'],
    ['ipsec', 'ah', '192.168.1.11', '10.0.2.4'],
    ['ipsec', 'esp', '192.168.1.11', '10.0.2.4'],
  ]);
  const [control, greFlow] = sessions;

  assert.equal([control!.inside_port, control!.outside_port, control!.packets, control!.bytes, control!.helper, control!.replied], [60432, 1723, 10, 1048, true, true]);
  assert.equal(greFlow!.call_ids, { client: 0x64, server: 0x4000, translated: 0xec10 });
  assert.equal([greFlow!.helper, greFlow!.age], [true, 7]);
  assert.is(sessions.find((s) => s.transport === 'ike')!.replied, false);
  assert.is(sessions.find((s) => s.transport === 'ike')!.packets, null);
});

test('classifier: helper from GRE keys (procfs) or from helper= (netlink)', () => {
  // No helper: the GRE tracker has no keymap, the client's key reads 0.
  const without = classify([tcp('192.168.1.10', '10.0.2.2', 40000, 1723), gre('192.168.1.10', '10.0.2.2', 0, 0x4002, 0)]).sessions;

  assert.equal(without.map((s) => [s.transport, s.helper]), [['control', false], ['gre', false]]);
  assert.equal(without[1]!.call_ids, { client: null, server: 0x4002, translated: null });
  // Control alone in procfs: cannot be known.
  assert.is(classify([tcp('192.168.1.10', '10.0.2.2', 40000, 1723)]).sessions[0]!.helper, null);
  // netlink: helper= on one control says the source prints it, so the other has none.
  const netlink = classify([tcp('192.168.1.10', '10.0.2.2', 40000, 1723).replace('use=2', 'helper=pptp use=1'), tcp('192.168.1.11', '10.0.2.2', 40001, 1723)]).sessions;

  assert.equal(netlink.map((s) => s.helper), [true, false]);
  assert.equal(classify([tcp('192.168.1.11', '10.0.2.2', 40001, 1723)], null, true).sessions[0]!.helper, false);
});

test('classifier: not passthrough — port forwards, the router itself, closing TCP, keyless GRE, LAN to LAN', () => {
  const inside: Prefix[] = [{ bytes: [192, 168, 1, 0], length: 24 }, { bytes: [0xfd, 0, 0, 1, ...new Array(12).fill(0)], length: 64 }];
  const lines = [
    udp('203.0.113.9', WAN, 500, 500, '203.0.113.9', '192.168.1.50'), // DNAT to an inside server
    udp(WAN, '10.0.2.2', 500, 500, WAN), // the router's own IKE (not masqueraded)
    tcp('192.168.1.10', '10.0.2.2', 40000, 1723, 'TIME_WAIT'),
    `ipv4     2 gre      47 29 src=192.168.1.10 dst=10.0.2.2 srckey=0x0 dstkey=0x0 src=10.0.2.2 dst=${WAN} srckey=0x0 dstkey=0x0 mark=0 zone=0 use=2`,
    udp('192.168.1.10', '192.168.1.11', 500, 500, '192.168.1.10'),
    'ipv6     10 udp      17 29 src=fd00:0001:0000:0000:0000:0000:0000:0010 dst=fd00:0002:0000:0000:0000:0000:0000:0002 sport=500 dport=500 [UNREPLIED] src=fd00:0002:0000:0000:0000:0000:0000:0002 dst=fd00:0001:0000:0000:0000:0000:0000:0010 sport=500 dport=500 mark=0 zone=0 use=2',
    'ipv6     10 unknown  50 599 src=fd00:0002:0000:0000:0000:0000:0000:0002 dst=fd00:0001:0000:0000:0000:0000:0000:0010 src=fd00:0001:0000:0000:0000:0000:0000:0010 dst=fd00:0002:0000:0000:0000:0000:0000:0002 mark=0 zone=0 use=2',
  ];
  // With the inside prefixes: only the inside IPv6 host's IKE (IPv6 is not NATed); procfs's full IPv6 is normalized.
  assert.equal(classify(lines, inside).sessions.map((s) => [s.transport, s.inside, s.outside]), [['ike', 'fd00:1::10', 'fd00:2::2']]);
  // Without them (a saved table): IPv4 must be masqueraded, so LAN-to-LAN and the router's own drop out too;
  // inbound IPv6 ESP cannot be told apart.
  assert.equal(classify(lines, null).sessions.map((s) => [s.transport, s.inside]), [['ike', 'fd00:1::10'], ['esp', 'fd00:2::2']]);
});

test('routes → inside prefixes (the kernel formats of /proc/net/route and ipv6_route)', () => {
  const v4 = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\neth1\t0002000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\nbr-lan\t0001A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\nbr-lan\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n';
  const v6 = [
    'fd000001000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000003 00000000 00000001   br-lan',
    'fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001   br-lan',
    'ff000000000000000000000000000000 08 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000003 00000000 00000001   br-lan',
    'fd000002000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000002 00000000 00000001     eth1',
  ].join('\n');

  assert.equal(ipv4Routes(v4, ['br-lan']), [{ bytes: [192, 168, 1, 0], length: 24 }]);
  assert.equal(ipv4Routes(v4, ['br-*']), [{ bytes: [192, 168, 1, 0], length: 24 }]);
  assert.equal(ipv6Routes(v6, ['br-lan']), [{ bytes: [0xfd, 0, 0, 1, ...new Array(12).fill(0)], length: 64 }]);
});

test('generated 65,536-entry table: exactly the VPN flows, streamed in 64 KiB chunks', async () => {
  for (const [entries, vpn] of [[65_536, 0], [65_536, 600], [1000, 1000]] as const) {
    const r = await collectSessions(chunked(generateTable(entries, vpn, 42)), { inside: null });

    assert.is(r.entries, entries);
    assert.is(r.skipped, 0);
    assert.is(r.sessions.length, vpn);
    const kinds = new Map<string, number>();

    for (const s of r.sessions) kinds.set(s.transport, (kinds.get(s.transport) ?? 0) + 1);
    if (vpn > 0) assert.equal([...kinds.keys()].sort(), ['control', 'esp', 'gre', 'ike', 'l2tp', 'nat-t']);
  }
});

/** Lines as 64 KiB chunks, never the whole table at once. */
function* chunked(lines: Iterable<string>): Generator<Uint8Array> {
  let text = '';

  for (const line of lines) {
    text += line + '\n';
    if (text.length >= 65536) {
      yield enc.encode(text);
      text = '';
    }
  }
  if (text) yield enc.encode(text);
}

test('malformed lines are skipped and counted, never fatal; the good ones around them still count', async () => {
  const r = rng(9);
  const good = [...generateTable(2000, 60, 5)];
  const bad = [
    'garbage',
    '\u0000\u0001\u00ff binary',
    'ipv4     2 tcp      6',
    'ipv4     2 tcp      x 431999 ESTABLISHED src=1.2.3.4',
    'ipv4     2 udp      17 29 src=192.168.1.10 dst=',
    'ipv4     2 unknown  50 599 src=192.168.1.10',
    `ipv4     2 gre      47 179 src=192.168.1.10 dst=10.0.2.2 srckey=0x1 dstkey=0x2 src=10.0.2.2 dst=${WAN} src=1.1.1.1 dst=2.2.2.2`,
    'x'.repeat(MAX_LINE + 10),
    ...good.slice(0, 40).map((l) => l.slice(0, r.int(5, 40))), // cut before the original dport
  ];
  const mixed = [...good];

  for (const b of bad) mixed.splice(r.int(0, mixed.length), 0, b);

  const result = await collectSessions(chunked(mixed), { inside: null });
  const clean = await collectSessions(chunked(good), { inside: null });

  assert.is(result.skipped, bad.length);
  assert.is(result.entries, good.length);
  assert.equal(result.sessions, clean.sessions);
});

test('triage agrees with the full parser on which lines may be VPN flows', () => {
  for (const line of generateTable(5000, 500, 11)) {
    const b = enc.encode(line);
    const e = parseEntry(line)!;
    const vpn = [47, 50, 51].includes(e.proto) || (e.proto === 6 && e.original.dport === 1723) || (e.proto === 17 && [500, 4500, 1701].includes(e.original.dport!));

    assert.is(triage(b, 0, b.length), vpn ? 'vpn' : 'other', line);
  }
});

const session = (over: Partial<Session>): Session => ({
  protocol: 'ipsec', inside: '192.168.1.10', outside: '10.0.2.2', transport: 'esp', helper: false, packets: null, bytes: null, age: null,
  inside_port: null, outside_port: null, call_ids: null, replied: true, ...over,
});

test('esp_senders listing → pairs (nft list set output)', () => {
  const listing = 'table inet vpn_passthrough {\n\tset esp_senders {\n\t\ttype ipv4_addr . ipv4_addr\n\t\tsize 65535\n\t\tflags dynamic,timeout\n\t\ttimeout 5m\n\t\telements = { 192.168.1.10 . 10.0.2.2 expires 4m59s424ms,\n\t\t\t     192.168.1.11 . 10.0.2.2 expires 4m59s448ms }\n\t}\n}\n';

  assert.equal(parseEspSenders(listing), [{ inside: '192.168.1.10', outside: '10.0.2.2' }, { inside: '192.168.1.11', outside: '10.0.2.2' }]);
  assert.equal(parseEspSenders(listing.replace(/\t\telements[^}]*}\n/, '')), []);
});

test('warnings: ESP collision from the set (the loser has no conntrack entry), naming the winner', () => {
  const senders = [{ inside: '192.168.1.10', outside: '10.0.2.2' }, { inside: '192.168.1.11', outside: '10.0.2.2' }, { inside: '192.168.1.12', outside: '10.0.2.9' }];
  const w = sessionWarnings({ sessions: [session({ inside: '192.168.1.11' })], espSenders: senders, drops: [] });

  assert.equal(w.map((d) => [d.code, d.value]), [['esp_collision', '10.0.2.2']]);
  assert.match(w[0]!.message, /192\.168\.1\.10, 192\.168\.1\.11 all send raw ESP/);
  assert.match(w[0]!.message, /Only 192\.168\.1\.11 gets through/);
  assert.match(w[0]!.message, /NAT-T \(UDP 4500\)/);
  assert.equal(sessionWarnings({ sessions: [], espSenders: senders.slice(2), drops: [] }), []);
});

test('warnings: PPTP control without GRE (after the grace time), PPTP without helper, drops', () => {
  const control = session({ protocol: 'pptp', transport: 'control', helper: null, age: null, inside_port: 40000, outside_port: 1723 });
  const greNoHelper = session({ protocol: 'pptp', transport: 'gre', inside: '192.168.1.11', helper: false, call_ids: { client: null, server: 1, translated: null } });
  const codes = (sessions: Session[], grace?: number) => sessionWarnings({ sessions, espSenders: [], drops: [], ...(grace === undefined ? {} : { graceSeconds: grace }) }).map((d) => [d.code, d.value]);

  assert.equal(codes([control]), [['pptp_no_gre', '192.168.1.10 -> 10.0.2.2']]);
  assert.equal(codes([{ ...control, age: 2 }]), []);
  assert.equal(codes([{ ...control, age: 2 }], 0), [['pptp_no_gre', '192.168.1.10 -> 10.0.2.2']]);
  assert.equal(codes([{ ...control, replied: false }]), []);
  assert.equal(codes([control, session({ protocol: 'pptp', transport: 'gre', helper: true })]), []);
  assert.equal(codes([greNoHelper]), [['pptp_no_helper', '192.168.1.11 -> 10.0.2.2']]);

  const drops = sessionWarnings({ sessions: [], espSenders: [], drops: [{ protocol: 'l2tp', packets: 3, bytes: 120, reason: 'disabled' }, { protocol: 'pptp', packets: 0, bytes: 0, reason: 'disabled' }] });

  assert.equal(drops.map((d) => [d.code, d.field, d.value]), [['protocol_dropped', 'vpn-passthrough.l2tp.enabled', 'l2tp']]);
  assert.match(drops[0]!.message, /3 L2TP packets \(120 bytes\) were dropped since the last apply: its passthrough is off/);
});

test('diff: sessions that appeared and ended between two polls; counters changing is not a new session', () => {
  const a = session({ inside: '192.168.1.10' });
  const b = session({ transport: 'nat-t', inside_port: 4500, outside_port: 4500 });
  const c = session({ protocol: 'pptp', transport: 'gre', call_ids: { client: 1, server: 2, translated: 3 } });

  assert.equal(diffSessions([a, b], [{ ...b, packets: 10, bytes: 999, age: 30 }, c]), { appeared: [c], ended: [a] });
  assert.equal(diffSessions([], []), { appeared: [], ended: [] });
  assert.is.not(sessionKey(c), sessionKey({ ...c, call_ids: { client: 1, server: 4, translated: 3 } }));
});

test.run();
