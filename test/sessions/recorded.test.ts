// The classifier on conntrack tables RECORDED here, from the namespace
// router of test/net while real flows run through it: strongSwan IKEv2 with
// NAT-T from both clients, xl2tpd's L2TP tunnel, the packet-level PPTP peers
// (control + enhanced GRE), raw ESP from both clients to one server (the
// collision) and AH. Recorded as procfs and as `conntrack -L -o extended`;
// the sessions command is run live in the router as well.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { Session, SessionsReport } from '../../firmware/core/model.ts';
import { ipv4Routes, ipv6Routes } from '../../firmware/core/sessions/scope.ts';
import { collectSessions } from '../../firmware/core/sessions/table.ts';
import { parseEspSenders, sessionWarnings } from '../../firmware/core/sessions/warnings.ts';
import { nodePlatform } from '../../firmware/platform/node.ts';
import { OWN } from '../lib/fixtures.ts';
import { Passthrough } from '../net/lib/passthrough.ts';
import { CALL_ID, pptpServer, pptpSession, serverCalls, type Session as PptpSession } from '../net/lib/pptp.ts';
import { must } from '../net/lib/proc.ts';
import { newTag, sendProbes } from '../net/lib/probes.ts';
import { initiate, ipsecClient, ipsecServer } from '../net/lib/strongswan.ts';
import { ADDR, Topology } from '../net/lib/topology.ts';
import { l2tpClient, l2tpOutcome, l2tpServer } from '../net/lib/xl2tpd.ts';

const topo = Topology.create('upstream-default');
const pt = new Passthrough(topo);
const enc = new TextEncoder();
const C1: string = ADDR.c1[4], C2: string = ADDR.c2[4], SERVER: string = ADDR.server[4];
const open: PptpSession[] = [];

test.after(async () => {
  for (const s of open) await s.close().catch(() => undefined);
  topo.destroy();
});

const sysctl = (name: string, value: number) => must(topo.sh('router', `echo ${value} > /proc/sys/net/netfilter/${name}`), name);
const record = () => ({
  procfs: must(topo.exec('router', ['cat', '/proc/net/nf_conntrack']), 'procfs').stdout,
  netlink: must(topo.exec('router', ['conntrack', '-L', '-o', 'extended']), 'conntrack -L').stdout,
  esp: must(topo.nft(['list', 'set', 'inet', 'vpn_passthrough', 'esp_senders']), 'esp_senders').stdout,
});
/** The router's inside prefixes, as the engine reads them. */
const inside = () => [
  ...ipv4Routes(must(topo.exec('router', ['cat', '/proc/net/route']), 'route').stdout, ['br-lan']),
  ...ipv6Routes(must(topo.exec('router', ['cat', '/proc/net/ipv6_route']), 'ipv6_route').stdout, ['br-lan']),
];
const classify = (text: string, scope = inside()) => collectSessions([enc.encode(text)], { inside: scope });
const pick = (sessions: Session[], transport: string, from?: string) => sessions.filter((s) => s.transport === transport && (from === undefined || s.inside === from));
const cliReport = (...args: string[]): SessionsReport => {
  const r = pt.cli(['sessions', '--json', ...args]);

  assert.is(r.status, 0, r.stderr);

  return JSON.parse(r.stdout) as SessionsReport;
};

let table: ReturnType<typeof record>;
let server: Awaited<ReturnType<typeof pptpServer>>;

test('real flows of all three protocols, recorded in the router (procfs and netlink)', async () => {
  pt.mustApply({});
  sysctl('nf_conntrack_acct', 1);
  sysctl('nf_conntrack_timestamp', 1);

  server = await pptpServer(topo);
  for (const c of ['c1', 'c2'] as const) {
    const s = await pptpSession(topo, c);

    open.push(s);
    assert.is(s.burst?.own, 3, `${c}: GRE echoes came back`);
  }

  const ike = await ipsecServer(topo);
  const ipsec = [await ipsecClient(topo, 'c1'), await ipsecClient(topo, 'c2')];

  for (const c of ipsec) assert.ok((await initiate(c)).established, `IKE from ${c.host}`);
  void ike;

  await l2tpServer(topo);
  assert.ok((await l2tpOutcome(l2tpClient(topo, 'c1'), 5000)).tunnel, 'L2TP tunnel up');

  // Raw ESP from both clients to one server (only one can get through the NAT), AH from c1.
  await sendProbes(topo, 'c1', [{ kind: 'esp', dst: SERVER, tag: newTag('esp-c1'), count: 2 }, { kind: 'ah', dst: SERVER, tag: newTag('ah-c1') }]);
  await sendProbes(topo, 'c2', [{ kind: 'esp', dst: SERVER, tag: newTag('esp-c2'), count: 2 }]);

  table = record();
  writeFileSync(join(topo.dir, 'procfs.txt'), table.procfs);
  writeFileSync(join(topo.dir, 'netlink.txt'), table.netlink);
  assert.ok(table.procfs.split('\n').length > 8, table.procfs);
});

test('procfs recording: every session, inside host before NAT, the server, counters, age, helper from the GRE keys', async () => {
  const r = await classify(table.procfs);

  assert.is(r.skipped, 0);
  for (const c of [C1, C2]) {
    const [control] = pick(r.sessions, 'control', c);
    const [gre] = pick(r.sessions, 'gre', c);

    assert.ok(control && gre, `${c}: PPTP control and GRE`);
    assert.equal([control!.protocol, control!.outside, control!.outside_port, control!.helper, control!.replied], ['pptp', SERVER, 1723, true, true]);
    // The server's Call ID for this client, and the Call ID it saw (the helper's NAT) in the GRE keys.
    const call = serverCalls(server).find((k) => k.call_id === gre!.call_ids!.server);

    assert.ok(call, `a call the server made has key ${gre!.call_ids!.server}`);
    assert.equal(gre!.call_ids, { client: CALL_ID, server: call!.call_id, translated: call!.peer_call_id });
    assert.is(gre!.helper, true);
    assert.ok(gre!.packets! >= 6 && gre!.bytes! > 0 && gre!.age !== null, JSON.stringify(gre));
    assert.ok(pick(r.sessions, 'nat-t', c).some((s) => s.protocol === 'ipsec' && s.outside === SERVER && s.outside_port === 4500 && s.replied), `${c}: NAT-T`);
  }
  assert.equal(pick(r.sessions, 'l2tp').map((s) => [s.protocol, s.inside, s.outside, s.outside_port, s.replied]), [['l2tp', C1, SERVER, 1701, true]]);
  assert.equal(pick(r.sessions, 'ah').map((s) => [s.inside, s.outside]), [[C1, SERVER]]);
  // The collision: conntrack holds the ESP of only one of them.
  assert.is(pick(r.sessions, 'esp').length, 1);
  assert.ok([C1, C2].includes(pick(r.sessions, 'esp')[0]!.inside));
});

test('the same table from netlink (conntrack -L -o extended): same sessions, helper=pptp read directly', async () => {
  const procfs = await classify(table.procfs);
  const netlink = await classify(table.netlink);
  const keys = (ss: Session[]) => ss.map((s) => `${s.protocol} ${s.transport} ${s.inside} ${s.outside} ${s.outside_port}`);

  assert.equal(keys(netlink.sessions), keys(procfs.sessions));
  assert.ok(table.netlink.includes('helper=pptp'));
  assert.equal(pick(netlink.sessions, 'control').map((s) => s.helper), [true, true]);
});

test('collision warning comes from the esp_senders set: the loser left no conntrack entry', async () => {
  const { sessions } = await classify(table.procfs);
  const senders = parseEspSenders(table.esp);
  const winner = pick(sessions, 'esp')[0]!.inside;
  const loser = winner === C1 ? C2 : C1;

  assert.not.ok(table.procfs.split('\n').some((l) => / 50 /.test(l) && l.includes(`src=${loser} `)), 'no ESP entry for the loser');
  assert.equal(senders.filter((s) => s.outside === SERVER).map((s) => s.inside).sort(), [C1, C2]);
  const w = sessionWarnings({ sessions, espSenders: senders, drops: [] }).filter((d) => d.code === 'esp_collision');

  assert.equal(w.map((d) => d.value), [SERVER]);
  assert.match(w[0]!.message, new RegExp(`Only ${winner.replaceAll('.', '\\.')} gets through`));
});

test('sessions command, live in the router and on the saved tables', () => {
  const live = cliReport();

  assert.is(live.source, '/proc/net/nf_conntrack');
  assert.equal(new Set(live.sessions.map((s) => s.protocol)), new Set(['pptp', 'l2tp', 'ipsec']));
  assert.ok(live.sessions.every((s) => s.inside === C1 || s.inside === C2), 'only the inside hosts');
  assert.ok(live.warnings.some((d) => d.code === 'esp_collision' && d.value === SERVER));

  for (const file of ['procfs.txt', 'netlink.txt']) {
    const saved = cliReport('--conntrack', join(topo.dir, file));

    assert.is(saved.source, join(topo.dir, file));
    assert.equal(pick(saved.sessions, 'control').map((s) => s.inside), [C1, C2], file);
  }

  const text = pt.cli(['sessions']);

  assert.is(text.status, 0, text.stderr);
  assert.match(text.stdout, /pptp +gre \(call 4660->\d+\) +192\.168\.1\.20/);
  assert.match(text.stdout, /warning: .*all send raw ESP to the IPsec server 10\.0\.2\.2.*\[esp_collision\]/);
});

test('streaming `conntrack -L` through the Node Platform gives the same sessions as procfs', async () => {
  const platform = nodePlatform([]);
  const streamed = await collectSessions(platform.runChunks(['ip', 'netns', 'exec', topo.ns.router, 'conntrack', '-L', '-o', 'extended']), { inside: inside(), helperShown: true });

  assert.equal(pick(streamed.sessions, 'control').map((s) => [s.inside, s.helper]), [[C1, true], [C2, true]]);
  try {
    for await (const _ of platform.runChunks(['ip', 'netns', 'exec', topo.ns.router, 'conntrack', '-L', '-p', 'nosuchproto'])) void _;
    assert.unreachable('a failing conntrack must throw');
  } catch (e) {
    assert.ok((e as { status?: number }).status! > 0, String(e));
  }
});

test('malformed lines in a recorded table are skipped and counted; the sessions stay the same', async () => {
  const lines = table.procfs.split('\n').filter(Boolean);
  const broken = lines.flatMap((l, i) => (i % 3 === 0 ? [l, l.slice(0, 30), 'ipv4 garbage \u0000'] : [l]));
  const clean = await classify(table.procfs);
  const r = await classify(broken.join('\n'));

  assert.is(r.skipped, 2 * Math.ceil(lines.length / 3));
  assert.equal(r.sessions, clean.sessions);
});

test('without the PPTP helper: GRE passes with key 0 (no Call-ID NAT), control without GRE; both warned', async () => {
  for (const s of open.splice(0)) await s.close();
  topo.flushConntrack();
  sysctl('nf_conntrack_timestamp', 0); // no age: the no-GRE warning needs no grace time
  must(topo.nft(['-f', join(OWN, 'render/helper-missing/expect.nft')]), 'ruleset without the helper');

  open.push(await pptpSession(topo, 'c1'));
  open.push(await pptpSession(topo, 'c2', 4, { gre: 0 }));

  const report = cliReport();
  const gre = pick(report.sessions, 'gre', C1);

  assert.equal(gre.map((s) => [s.helper, s.call_ids?.client]), [[false, null]]);
  assert.equal(pick(report.sessions, 'control').map((s) => [s.inside, s.helper, s.age]), [[C1, false, null], [C2, null, null]]);
  const codes = report.warnings.map((d) => `${d.code} ${d.value}`);

  assert.ok(codes.includes(`pptp_no_helper ${C1} -> ${SERVER}`), codes.join('\n'));
  assert.ok(codes.includes(`pptp_no_gre ${C2} -> ${SERVER}`), codes.join('\n'));
});

test('a disabled protocol being dropped shows from our counters', async () => {
  pt.mustApply({ l2tp: { enabled: false } });
  await sendProbes(topo, 'c1', [{ kind: 'udp', dst: SERVER, port: 1701, sport: 1701, tag: newTag('l2tp-off'), count: 3 }]);

  const dropped = cliReport().warnings.filter((d) => d.code === 'protocol_dropped');

  assert.equal(dropped.map((d) => [d.field, d.value]), [['vpn-passthrough.l2tp.enabled', 'l2tp']]);
  assert.match(dropped[0]!.message, /^3 L2TP packets/);
});

test.run();
