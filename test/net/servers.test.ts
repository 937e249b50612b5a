// VPN servers behind the router, with real traffic: an inside host (c1)
// runs the server, outside hosts connect to the router's outside address.
// firewall4 runs a genuine ruleset with our include files rendered in, as
// fw4 renders them once the package is installed (lib/servers.ts says how).
// IKEv2 (strongSwan, NAT-T, and raw ESP at packet level), PPTP (packet-level
// peers: control, GRE both ways, the Call-IDs), L2TP (xl2tpd LNS inside, LAC
// outside), an allow list, the passthrough switches for the other inside
// hosts, and nothing left once a server is disabled or removed.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { Passthrough, uci, type PassthroughConfig } from './lib/passthrough.ts';
import { CALL_ID, type Burst, type Control } from './lib/pptp.ts';
import { assertReach, expectReach, newTag, probe, reach, Sniffer } from './lib/probes.ts';
import { PYTHON } from './lib/proc.ts';
import { c2ToOut2, homePing, homeResponder, insideLns, loadFw4Hooked, memberProbes, NETWORK, Out2, OUT2, out2Responder, outsideInitiator, outsideLac, probeInbound, serverUci, WAN, type ServerSection } from './lib/servers.ts';
import { initiate, tunnelPing, type Charon } from './lib/strongswan.ts';
import { ADDR, FW4, Topology, type Fw4 } from './lib/topology.ts';
import { l2tpOutcome } from './lib/xl2tpd.ts';

const topo = Topology.create();
const vpn = new Passthrough(topo);
const IPSEC_SET = ['udp/500', 'udp/4500', 'esp'];
let inside: Sniffer;
let outside: Sniffer;
let out2: Out2;

writeFileSync(join(vpn.confdir, 'network'), NETWORK);

test.before(async () => {
  out2 = new Out2(topo);
  [inside, outside] = await Promise.all([Sniffer.start(topo, 'c1'), Sniffer.start(topo, 'server')]);
  loadFw4Hooked(topo, 'upstream-default', vpn.statedir);
});
test.after(() => {
  out2?.destroy();
  topo.destroy();
});

const IPSEC: ServerSection = { name: 'office', protocol: 'ipsec', host: ADDR.c1[4], host6: ADDR.c1[6] };

function applyServers(servers: ServerSection[], protocols: PassthroughConfig = {}) {
  return vpn.mustApply(`${uci(protocols)}\n${serverUci(servers)}`);
}

const fw4Chain = () => topo.nft(['list', 'chain', 'inet', 'fw4', 'vpn_passthrough_forward']).stdout;
const server = (name: string) => vpn.status().servers.find((s) => s.name === name)!;
/** conntrack entries whose reply comes from c1: flows forwarded to it. */
const toC1 = () => topo.conntrack().filter((l) => l.includes(`src=${ADDR.c1[4]} dst=`) && !l.startsWith('icmp'));

/** Which probes from an outside host (by namespace) reached c1. */
async function arrived(ns: string, dst: string, members: readonly string[], label: string): Promise<Record<string, boolean>> {
  const probes = memberProbes(dst, label, members);
  const seen = await probeInbound(ns, inside, probes);

  return Object.fromEntries(members.map((m, i) => [m, seen.get(probes[i]!.tag)!.length > 0]));
}

const all = (members: readonly string[], value: boolean) => Object.fromEntries(members.map((m) => [m, value]));

async function withHomeTunnel(remote: string, body: (initiator: Charon) => Promise<void>): Promise<void> {
  const responder = await homeResponder(topo);
  const initiator = await outsideInitiator(topo, remote);

  try {
    await body(initiator);
  } finally {
    await Promise.all([responder.stop(), initiator.stop()]);
  }
}

test('without a server section nothing inbound is opened: outside probes get exactly as far as with our table removed', async () => {
  const members = ['udp/500', 'udp/4500', 'udp/1701', 'tcp/1723', 'esp', 'gre'];

  vpn.mustApply({ enabled: false });
  topo.flushConntrack();
  const alone = { v4: await arrived(topo.ns.server, WAN[4], members, 'alone4'), v6: await arrived(topo.ns.server, ADDR.c1[6], members, 'alone6') };

  assert.equal(alone.v4, all(members, false), 'nothing reaches c1 through the router\'s address');
  vpn.mustApply({});
  topo.flushConntrack();
  assert.equal({ v4: await arrived(topo.ns.server, WAN[4], members, 'none4'), v6: await arrived(topo.ns.server, ADDR.c1[6], members, 'none6') }, alone);
  assert.not.match(fw4Chain(), /accept/, 'fw4\'s chain of ours is empty');
});

for (const fw4 of FW4) {
  test(`[${fw4}] IKEv2 server on c1: an outside strongSwan reaches it at the router's address, NAT-T tunnel up, pings inside it`, async () => {
    loadFw4Hooked(topo, fw4, vpn.statedir);
    const r = applyServers([IPSEC]);

    if (!/unchanged/.test(r.stdout)) assert.match(r.stdout, /server office \(ipsec\): UDP 500 \+ UDP 4500 \+ ESP -> 192\.168\.1\.20, fd00:ab:cd::20/);
    await withHomeTunnel(WAN[4], async (initiator) => {
      const up = await initiate(initiator);

      assert.ok(up.established, up.output);
      const ping = await homePing(topo);

      assert.is(ping.received, 3, ping.output);
      assert.ok(toC1().some((l) => /^udp .* dport=4500 src=192\.168\.1\.20 dst=10\.0\.2\.2 sport=4500 /.test(l)), topo.conntrack().join('\n'));
    });
    const s = server('office');

    assert.is(s.active, true);
    assert.ok(s.connections.packets >= 2, `IKE and NAT-T counted: ${JSON.stringify(s)}`);
    assert.match(fw4Chain(), /ct status dnat ip daddr 192\.168\.1\.20 meta l4proto \. th dport \{ udp \. 500, udp \. 4500, esp \. 0-65535 \} accept/);
  });
}

test('IKEv2 to the server\'s IPv6 address (no NAT): the tunnel comes up; fw4 alone lets no UDP 4500 in', async () => {
  applyServers([IPSEC]);
  await withHomeTunnel(ADDR.c1[6], async (initiator) => {
    const up = await initiate(initiator);

    assert.ok(up.established, up.output);
    assert.is((await homePing(topo)).received, 3);
  });
  vpn.mustApply({});
  topo.flushConntrack();
  assert.equal(await arrived(topo.ns.server, ADDR.c1[6], ['udp/4500'], 'v6-no-server'), { 'udp/4500': false });
});

test('raw ESP at packet level: outside ESP to the router reaches c1, c1\'s ESP goes back out from the router\'s address', async () => {
  applyServers([IPSEC]);
  topo.flushConntrack();
  const [esp] = memberProbes(WAN[4], 'esp-in', ['esp']);
  const got = (await probeInbound(topo.ns.server, inside, [esp!])).get(esp!.tag)!;

  assert.equal(got.map((p) => [p.proto, p.src, p.dst]), [['esp', ADDR.server[4], ADDR.c1[4]]]);
  const tag = newTag('esp-out');
  const back = (await probe(topo, 'c1', outside, [{ kind: 'esp', dst: ADDR.server[4], tag }])).get(tag)!;

  assert.equal(back.map((p) => [p.proto, p.src]), [['esp', WAN[4]]], 'masqueraded back as the router');
});

test('a firewall4 reload re-creates the accepts from the file; the server keeps working', async () => {
  applyServers([IPSEC]);
  const before = fw4Chain();

  loadFw4Hooked(topo, 'upstream-default', vpn.statedir);
  assert.equal(fw4Chain().replace(/handle \d+/g, ''), before.replace(/handle \d+/g, ''));
  assert.match(fw4Chain(), /accept/);
  assert.equal(await arrived(topo.ns.server, WAN[4], IPSEC_SET, 'reloaded'), all(IPSEC_SET, true));
});

test('without our include files in fw4 (not reloaded since install) the apply warns, and fw4 rejects UDP 4500', async () => {
  topo.loadFw4('upstream-default');
  const r = applyServers([IPSEC]);

  assert.match(r.stderr, /warning: .*firewall4 has not loaded vpn-passthrough's include files yet.*\[fw4_hook_missing\]/);
  topo.flushConntrack();
  assert.is((await arrived(topo.ns.server, WAN[4], ['udp/4500'], 'nohook'))['udp/4500'], false);
  loadFw4Hooked(topo, 'upstream-default', vpn.statedir);
  topo.flushConntrack();
  assert.is((await arrived(topo.ns.server, WAN[4], ['udp/4500'], 'hook'))['udp/4500'], true, 'after the reload fw4 has our accepts');
});

test('IPsec passthrough off: the server still works, c2 cannot reach an IPsec server outside; on: both at once through one outside address', async () => {
  const responder2 = await out2Responder(topo, out2);

  try {
    applyServers([IPSEC], { ipsec: { enabled: false } });
    await withHomeTunnel(WAN[4], async (initiator) => {
      const up = await initiate(initiator);

      assert.ok(up.established, up.output);
      const c2 = await c2ToOut2(topo);

      try {
        const blocked = await initiate(c2);

        assert.not.ok(blocked.established, blocked.output);
        assert.is((await homePing(topo)).received, 3, 'the server\'s tunnel is not dropped by the switch');
      } finally {
        await c2.stop();
      }
      topo.flushConntrack();
      assertReach(await reach(topo, outside, 'c2', ['ipsec'], [4]), expectReach(() => false, ['ipsec'], [4]), 'c2 ipsec, passthrough off');
    });
    // A new flow the server itself starts from its port (a rekey after the
    // NAT-T mapping expired) is the server's too; the same from c2 is not.
    topo.flushConntrack();
    const tags = { c1: newTag('srv-out-c1'), c2: newTag('srv-out-c2') };
    const c1out = await probe(topo, 'c1', outside, [{ kind: 'udp', dst: ADDR.server[4], port: 4500, sport: 4500, tag: tags.c1 }]);
    const c2out = await probe(topo, 'c2', outside, [{ kind: 'udp', dst: ADDR.server[4], port: 4500, sport: 4500, tag: tags.c2 }]);

    assert.equal(c1out.get(tags.c1)!.map((p) => p.src), [WAN[4]]);
    assert.equal(c2out.get(tags.c2), []);

    applyServers([IPSEC], { ipsec: { enabled: true } });
    topo.flushConntrack();
    await withHomeTunnel(WAN[4], async (initiator) => {
      assert.ok((await initiate(initiator)).established);
      const c2 = await c2ToOut2(topo);

      try {
        const up = await initiate(c2);

        assert.ok(up.established, up.output);
        assert.is((await tunnelPing(topo, 'c2')).received, 3);
        assert.is((await homePing(topo)).received, 3);
        const natT = topo.conntrack().filter((l) => / dport=4500 /.test(l)).map((l) => /src=(\S+) dst=(\S+)/.exec(l)!.slice(1).join(' -> ')).sort();

        assert.equal(natT, [`${ADDR.server[4]} -> ${WAN[4]}`, `${ADDR.c2[4]} -> ${OUT2[4]}`], topo.conntrack().join('\n'));
      } finally {
        await c2.stop();
      }
    });
  } finally {
    await responder2.stop();
  }
});

/** The packet-level PPTP peers: the server on c1, `clients` calls from the
 * outside host dialling the router's address, all with the same Call-ID. */
async function pptpThroughRouter(clients: number): Promise<{ calls: { control?: Control; burst?: Burst }[]; server: Record<string, unknown>[]; conntrack: string[] }> {
  const srv = topo.daemon('c1', 'pptp-server', [PYTHON, 'test/net/peers/pptp.py', 'server']);

  try {
    if (!(await srv.waitJson((v) => v.ready === true, 3000))) throw new Error(`pptp server did not start: ${srv.text()}`);
    const started = Array.from({ length: clients }, (_, i) => topo.daemon('server', 'pptp-client', [PYTHON, 'test/net/peers/pptp.py', 'client', WAN[4], newTag(`pptp-in${i}`), '--call-id', String(CALL_ID), '--gre', '3', '--wait', '1']));
    const calls = await Promise.all(started.map(async (client) => {
      const control = await client.waitJson<Control>((v) => 'control' in v, 4000);
      const burst = control?.control === 'ok' ? await client.waitJson<Burst>((v) => 'gre_sent' in v, 4000) : undefined;

      return { ...(control ? { control } : {}), ...(burst ? { burst } : {}) };
    }));
    const conntrack = topo.conntrack();

    for (const client of started) client.closeStdin();
    await Promise.all(started.map((c) => c.stop(1000)));

    return { calls, server: srv.json(), conntrack };
  } finally {
    await srv.stop();
  }
}

for (const fw4 of FW4) {
  test(`[${fw4}] PPTP server on c1, PPTP passthrough off for the others: control and GRE both ways, the Call-IDs right, helper attached`, async () => {
    loadFw4Hooked(topo, fw4 as Fw4, vpn.statedir);
    applyServers([{ name: 'legacy', protocol: 'pptp', host: ADDR.c1[4] }], { pptp: { enabled: false } });
    const r = await pptpThroughRouter(1);
    const [c] = r.calls;
    const call = r.server.find((e) => e.event === 'call') as { peer: string; peer_call_id: number; call_id: number };
    const control = r.conntrack.find((l) => / dport=1723 /.test(l)) ?? '';
    const sport = Number(/sport=(\d+) dport=1723/.exec(control)?.[1]);
    const hex = (n: number) => `0x${n.toString(16)}`;

    assert.is(c?.control?.control, 'ok', JSON.stringify(r));
    assert.is(c?.control?.echoed_call_id, CALL_ID, 'the reply\'s Peer Call-ID is the client\'s own');
    assert.is(c?.burst?.own, 3, `the client got its GRE back, keyed by its Call-ID: ${JSON.stringify(c?.burst)}`);
    assert.equal(c?.burst?.foreign, []);
    assert.is(call.peer, ADDR.server[4], 'the server sees the real client');
    assert.is(r.server.filter((e) => e.event === 'gre' && e.key === call.call_id && e.known === true).length, 3, `the server got the client's GRE keyed by its own Call-ID: ${JSON.stringify(r.server)}`);
    // The helper's Call-ID NAT: the server knows the call by the control
    // connection's port, and GRE is translated both ways.
    assert.match(control, /src=192\.168\.1\.20 dst=10\.0\.2\.2 sport=1723 .*helper=pptp/, r.conntrack.join('\n'));
    assert.is(call.peer_call_id, sport);
    assert.ok(r.conntrack.some((l) => l.startsWith('gre ') && l.includes(`src=${ADDR.server[4]} dst=${WAN[4]} srckey=${hex(CALL_ID)} dstkey=${hex(call.call_id)} src=${ADDR.c1[4]} dst=${ADDR.server[4]} srckey=${hex(call.call_id)} dstkey=${hex(sport)}`)), r.conntrack.join('\n'));
    assert.ok(server('legacy').connections.packets >= 1);

    topo.flushConntrack();
    assertReach(await reach(topo, outside, 'c2', ['pptp'], [4]), expectReach(() => false, ['pptp'], [4]), 'c2 pptp, passthrough off');
  });
}

test('PPTP: two calls from one outside host with the same Call-ID each get their own GRE back', async () => {
  topo.flushConntrack();
  const r = await pptpThroughRouter(2);
  const ids = r.server.filter((e) => e.event === 'call').map((e) => e.peer_call_id);

  for (const c of r.calls) {
    assert.is(c.control?.control, 'ok', JSON.stringify(r.calls));
    assert.is(c.burst?.own, 3, JSON.stringify(c.burst));
  }
  assert.is(ids.length, 2);
  assert.is.not(ids[0], ids[1], 'the server tells the two calls apart');
});

test('L2TP server on c1 (xl2tpd LNS), an outside LAC dials the router: control tunnel and call', async () => {
  loadFw4Hooked(topo, 'upstream-default', vpn.statedir);
  applyServers([{ name: 'l2tp', protocol: 'l2tp', host: ADDR.c1[4] }]);
  const lns = await insideLns(topo);
  const lac = outsideLac(topo);

  try {
    const o = await l2tpOutcome(lac, 3000);

    assert.equal({ tunnel: o.tunnel, call: o.call }, { tunnel: true, call: true }, o.log);
    assert.ok(await lns.waitFor((l) => /Call established with 10\.0\.2\.2/.test(l.text), 1000), lns.text());
    assert.ok(toC1().some((l) => / dport=1701 /.test(l)));
  } finally {
    await Promise.all([lac.stop(), lns.stop()]);
  }
  // L2TP/IPsec: the IPsec set goes to the same host.
  topo.flushConntrack();
  assert.equal(await arrived(topo.ns.server, WAN[4], IPSEC_SET, 'l2tp-ipsec'), all(IPSEC_SET, true));
});

test('an allow list lets one outside host in and keeps the other out, IPv4 and IPv6 (where fw4 alone accepts UDP 500 and ESP)', async () => {
  topo.flushConntrack();
  vpn.mustApply({});
  assert.equal(await arrived(out2.ns, ADDR.c1[6], ['udp/500', 'esp'], 'fw4-default'), all(['udp/500', 'esp'], true), 'fw4\'s Allow-ISAKMP / Allow-IPSec-ESP');

  applyServers([{ ...IPSEC, allow: [ADDR.server[4], ADDR.server[6]] }]);
  topo.flushConntrack();
  assert.equal(await arrived(topo.ns.server, WAN[4], IPSEC_SET, 'allowed4'), all(IPSEC_SET, true));
  assert.equal(await arrived(topo.ns.server, ADDR.c1[6], IPSEC_SET, 'allowed6'), all(IPSEC_SET, true));
  assert.equal(await arrived(out2.ns, WAN[4], IPSEC_SET, 'kept-out4'), all(IPSEC_SET, false));
  assert.equal(await arrived(out2.ns, ADDR.c1[6], IPSEC_SET, 'kept-out6'), all(IPSEC_SET, false));
  const s = server('office');

  assert.ok(s.refused.packets >= 6, JSON.stringify(s));
  assert.ok(s.connections.packets >= 6, JSON.stringify(s));
});

for (const how of ['disabled', 'removed'] as const) {
  test(`once the section is ${how}, nothing of it reaches c1: the running tunnel stops, new packets stop, fw4's chain is empty`, async () => {
    applyServers([IPSEC]);
    await withHomeTunnel(WAN[4], async (initiator) => {
      assert.ok((await initiate(initiator)).established);
      assert.is((await homePing(topo)).received, 3);
      applyServers(how === 'disabled' ? [{ ...IPSEC, enabled: false }] : []);
      assert.is((await homePing(topo, 2)).received, 0, 'the tunnel\'s packets no longer reach c1');
      assert.equal(toC1(), [], 'no conntrack entry forwards to c1');
    });
    topo.flushConntrack();
    assert.equal(await arrived(topo.ns.server, WAN[4], IPSEC_SET, `${how}4`), all(IPSEC_SET, false));
    assert.equal(await arrived(topo.ns.server, ADDR.c1[6], ['udp/4500'], `${how}6`), { 'udp/4500': false });
    assert.not.match(fw4Chain(), /accept/);
    assert.is(server('office')?.active ?? false, false);
  });
}

test('what NAT allows: a peer\'s packets that match an inside client\'s session (UDP 500 from 500, raw ESP) go to that client, the rest to the server', async () => {
  applyServers([IPSEC]);
  topo.flushConntrack();
  const c2 = await Sniffer.start(topo, 'c2');

  try {
    // c2 starts its own sessions with the outside peer: IKE from port 500 (kept by masquerading) and raw ESP.
    const out = { ike: newTag('c2-ike'), esp: newTag('c2-esp') };
    const sent = await probe(topo, 'c2', outside, [{ kind: 'udp', dst: ADDR.server[4], port: 500, sport: 500, tag: out.ike }, { kind: 'esp', dst: ADDR.server[4], tag: out.esp }]);

    assert.equal([sent.get(out.ike)!.map((p) => [p.src, p.sport]), sent.get(out.esp)!.map((p) => p.src)], [[[WAN[4], 500]], [WAN[4]]]);
    // The same peer now sends to the router's address: from port 500 (a reply of c2's session) and raw ESP.
    const back = memberProbes(WAN[4], 'peer', ['udp/500', 'esp']).map((p, i) => (i === 0 ? { ...p, sport: 500 } : p));
    const atServer = await probeInbound(topo.ns.server, inside, back);

    assert.equal(back.map((p) => atServer.get(p.tag)!.length), [0, 0], 'not to the server');
    assert.equal(back.map((p) => c2.tagged(p.tag).map((x) => x.dst)), [[ADDR.c2[4]], [ADDR.c2[4]]], 'to c2');
    // From another port, the peer's IKE is a new connection: the server's.
    const [other] = memberProbes(WAN[4], 'peer-other', ['udp/500']);

    assert.is((await probeInbound(topo.ns.server, inside, [other!])).get(other!.tag)!.length, 1);
  } finally {
    await c2.stop();
  }
});

test('the service stopped as the init script stops it: sessions already forwarded run on until idle, nothing new gets in', async () => {
  applyServers([IPSEC]);
  topo.flushConntrack(); // c2's sessions with the same peer would take the initiator's IKE (the test above)
  await withHomeTunnel(WAN[4], async (initiator) => {
    assert.ok((await initiate(initiator)).established);
    topo.nft(['delete', 'table', 'inet', 'vpn_passthrough']);
    topo.nft(['flush', 'chain', 'inet', 'fw4', 'vpn_passthrough_forward']);
    assert.is((await homePing(topo)).received, 3, 'the running tunnel goes on');
  });
  topo.flushConntrack();
  assert.equal(await arrived(topo.ns.server, WAN[4], IPSEC_SET, 'stopped'), all(IPSEC_SET, false));
  vpn.mustApply(`${uci()}\n${serverUci([IPSEC])}`);
});

test('checked before anything is loaded: each problem names the field, the value and the other party; the rules stay', async () => {
  applyServers([IPSEC]);
  const table = vpn.table();
  const fails = (servers: ServerSection[] | string, pattern: RegExp) => {
    const r = vpn.apply(`${uci()}\n${typeof servers === 'string' ? servers : serverUci(servers)}`);

    assert.is(r.status, 1, r.stdout);
    assert.match(r.stderr, pattern);
    assert.is(vpn.table(), table, 'the previous rules stay');
  };

  fails([{ ...IPSEC, host: '10.0.2.50' }], /error: vpn-passthrough\.office\.host='10\.0\.2\.50': is not in an inside network \(192\.168\.1\.0\/24\).*\[server_host_not_inside\]/);
  fails([{ ...IPSEC, host: ADDR.router.lan[4] }], /vpn-passthrough\.office\.host='192\.168\.1\.1': is the router's own address/);
  fails([{ ...IPSEC, allow: ['198.51.100.0/24', 'nonsense'] }], /error: vpn-passthrough\.office\.allow='nonsense': .*\[invalid_allow\]/);
  fails([{ name: 'a', protocol: 'pptp', host: ADDR.c1[4] }, { name: 'b', protocol: 'pptp', host: ADDR.c2[4] }], /vpn-passthrough\.b\.protocol='pptp': forwards the PPTP set \(TCP 1723 \+ GRE\) like server 'a' \(pptp to 192\.168\.1\.20\).*\[server_conflict\]/);
  fails([{ name: 'a', protocol: 'l2tp', host: ADDR.c1[4] }, { name: 'b', protocol: 'ipsec', host: ADDR.c2[4] }], /vpn-passthrough\.b\.protocol='ipsec': forwards the IPsec set \(UDP 500 \+ UDP 4500 \+ ESP\) like server 'a' \(l2tp to 192\.168\.1\.20\)/);

  writeFileSync(join(vpn.confdir, 'firewall'), `${readFileSync(join(vpn.confdir, 'firewall'), 'utf8')}\nconfig redirect\n\toption name 'Forward-IKE'\n\toption src 'wan'\n\toption proto 'udp'\n\toption src_dport '500'\n\toption dest 'lan'\n\toption dest_ip '192.168.1.99'\n`);
  fails([IPSEC], /vpn-passthrough\.office\.protocol='ipsec': firewall4's port forward 'Forward-IKE' \(firewall\.@redirect\[0\]\) also forwards UDP 500 from outside.*\[server_redirect_conflict\]/);
  vpn.useFirewall();

  const holder = topo.daemon('router', 'udp4500', [PYTHON, '-c', "import socket,sys,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(('0.0.0.0',4500))\nprint('bound',flush=True)\ntime.sleep(60)"]);

  try {
    assert.ok(await holder.waitFor((l) => l.text === 'bound', 3000), holder.text());
    fails([IPSEC], new RegExp(`vpn-passthrough\\.office\\.protocol='ipsec': UDP 4500 is taken on the router itself by 'python3' \\(pid ${holder.pid}\\) \\(listening on 0\\.0\\.0\\.0:4500\\).*\\[server_port_in_use\\]`));
  } finally {
    await holder.stop();
  }
  vpn.mustApply(`${uci()}\n${serverUci([IPSEC])}`);
  assert.is(vpn.table(), table);
});

test.run();
