// The traffic test bed proves itself with fw4 alone, before it is trusted to
// judge vpn-passthrough: every protocol passes a genuine fw4 ruleset, a drop
// rule in another table blocks exactly what it names (so a "dropped" verdict
// can be told from a broken bed), the PPTP peers notice a missing conntrack
// helper, and teardown leaves nothing behind.

import { existsSync } from 'node:fs';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { must } from './lib/proc.ts';
import { assertReach, expectReach, MEMBERS, newTag, probe, reach, Sniffer, type Member } from './lib/probes.ts';
import { CALL_ID, newCalls, pptpServer, pptpSession } from './lib/pptp.ts';
import { initiate, ipsecClient, ipsecServer, tunnelPing } from './lib/strongswan.ts';
import { ADDR, FW4, Topology } from './lib/topology.ts';
import { l2tpClient, l2tpOutcome, l2tpServer } from './lib/xl2tpd.ts';

const started = Date.now();
const topo = Topology.create('upstream-default');
const setupMs = Date.now() - started;
let sniffer: Sniffer;

test.before(async () => {
  sniffer = await Sniffer.start(topo);
});
test.after(() => topo.destroy());

/** A table of our own in the router that drops forwarded packets matching `rule`. */
function handDrop(rule: string): void {
  must(topo.nft(['-f', '-'], `table inet handdrop\ndelete table inet handdrop\ntable inet handdrop {\n\tchain forward {\n\t\ttype filter hook forward priority filter - 1; policy accept;\n\t\t${rule} drop\n\t}\n}\n`), 'hand drop');
}

const removeHandDrop = () => topo.nft(['delete', 'table', 'inet', 'handdrop']);

const DROP_RULES: Record<Member, string> = {
  'tcp/1723': 'tcp dport 1723',
  gre: 'meta l4proto gre',
  'udp/1701': 'udp dport 1701',
  'udp/500': 'udp dport 500',
  'udp/4500': 'udp dport 4500',
  esp: 'meta l4proto esp',
  ah: 'meta l4proto ah',
};

test('the test bed comes up in well under a second; IPv4 is masqueraded, IPv6 routed', async () => {
  assert.ok(setupMs < 1000, `setup took ${setupMs} ms`);

  const tags = { c1v4: newTag('c1v4'), c2v4: newTag('c2v4'), c1v6: newTag('c1v6'), c2v6: newTag('c2v6') };
  const [c1, c2] = await Promise.all([
    probe(topo, 'c1', sniffer, [{ kind: 'icmp', dst: ADDR.server[4], tag: tags.c1v4 }, { kind: 'icmp', dst: ADDR.server[6], tag: tags.c1v6 }]),
    probe(topo, 'c2', sniffer, [{ kind: 'icmp', dst: ADDR.server[4], tag: tags.c2v4 }, { kind: 'icmp', dst: ADDR.server[6], tag: tags.c2v6 }]),
  ]);

  assert.is(c1.get(tags.c1v4)![0]?.src, ADDR.router.wan[4]);
  assert.is(c2.get(tags.c2v4)![0]?.src, ADDR.router.wan[4]);
  assert.is(c1.get(tags.c1v6)![0]?.src, ADDR.c1[6]);
  assert.is(c2.get(tags.c2v6)![0]?.src, ADDR.c2[6]);
});

for (const fw4 of FW4) {
  test(`with fw4 ${fw4} alone, every member of every protocol passes, IPv4 and IPv6, from both clients`, async () => {
    topo.loadFw4(fw4);
    for (const client of ['c1', 'c2'] as const) {
      topo.flushConntrack();
      assertReach(await reach(topo, sniffer, client), expectReach(() => true), client);
    }
  });
}

test('a drop rule in a separate table blocks exactly the member it names, each one separately', async () => {
  topo.loadFw4('upstream-default');
  try {
    for (const member of Object.values(MEMBERS).flat() as Member[]) {
      handDrop(DROP_RULES[member]);
      assertReach(await reach(topo, sniffer, 'c1'), expectReach((_p, _f, m) => m !== member), `${member} dropped`);
    }
  } finally {
    removeHandDrop();
  }
});

test('PPTP: with the helper fw4 attaches, two clients with the same Call-ID each get their own GRE back', async () => {
  topo.loadFw4('upstream-default.pptp-loaded');
  const server = await pptpServer(topo);
  const [s1, s2] = await Promise.all([pptpSession(topo, 'c1'), pptpSession(topo, 'c2')]);

  try {
    for (const s of [s1, s2]) {
      assert.is(s.control.control, 'ok', `${s.client}: ${s.control.error}`);
      assert.is(s.control.echoed_call_id, CALL_ID, `${s.client}: the reply's Peer Call-ID is translated back`);
      assert.is(s.burst?.own, 3, `${s.client}: ${JSON.stringify(s.burst)}`);
      assert.equal(s.burst?.foreign, []);
    }
    const seen = (await newCalls(server, 0, 2)).map((c) => c.peer_call_id);

    assert.is(seen.length, 2);
    assert.is.not(seen[0], seen[1], 'the server sees two different Call-IDs');
    const helped = topo.conntrack().filter((l) => /dport=1723 .*helper=pptp/.test(l));

    assert.is(helped.length, 2, topo.conntrack().join('\n'));
  } finally {
    await Promise.all([s1.close(), s2.close(), server.stop()]);
  }
});

test('PPTP: without a helper (fw4 upstream-default alone) the GRE replies never come back, and conntrack shows no helper', async () => {
  topo.loadFw4('upstream-default');
  const server = await pptpServer(topo);
  const [s1, s2] = await Promise.all([pptpSession(topo, 'c1', 4, { waitS: 0.5 }), pptpSession(topo, 'c2', 4, { waitS: 0.5 })]);

  try {
    for (const s of [s1, s2]) {
      assert.is(s.control.control, 'ok');
      assert.is(s.burst?.own, 0, `${s.client}: ${JSON.stringify(s.burst)}`);
    }
    assert.is((await newCalls(server, 0, 2)).filter((c) => c.peer_call_id === CALL_ID).length, 2, 'the Call-IDs reach the server untranslated');
    assert.not.match(topo.conntrack().join('\n'), /helper=pptp/);
  } finally {
    await Promise.all([s1.close(), s2.close(), server.stop()]);
  }
});

test('IPsec: two strongSwan clients bring up NAT-T tunnels at once through fw4 and ping inside them; a UDP 500 drop stops a new one', async () => {
  topo.loadFw4('upstream-default');
  const server = await ipsecServer(topo);
  const [k1, k2] = await Promise.all([ipsecClient(topo, 'c1'), ipsecClient(topo, 'c2')]);

  try {
    const [i1, i2] = await Promise.all([initiate(k1), initiate(k2)]);

    assert.ok(i1.established, i1.output);
    assert.ok(i2.established, i2.output);
    for (const c of ['c1', 'c2'] as const) {
      const ping = await tunnelPing(topo, c);

      assert.is(ping.received, 3, ping.output);
    }
    const natT = topo.conntrack().filter((l) => / dport=4500 /.test(l));

    assert.equal(natT.map((l) => /src=(\S+)/.exec(l)![1]).sort(), [ADDR.c1[4], ADDR.c2[4]], natT.join('\n'));

    await k1.stop();
    topo.flushConntrack();
    handDrop('udp dport 500');
    const k1b = await ipsecClient(topo, 'c1');
    const blocked = await initiate(k1b);

    assert.not.ok(blocked.established, blocked.output);
    // Given up by charon's short retransmits (about 1.5 s idle), not by swanctl's --timeout 5.
    assert.ok(blocked.ms < 4500, `it took ${blocked.ms} ms to give up`);
    await k1b.stop();
  } finally {
    removeHandDrop();
    await Promise.all([server.stop(), k1.stop(), k2.stop()]);
  }
});

test('L2TP: xl2tpd LACs in both clients get a control tunnel and a call; a UDP 1701 drop stops them', async () => {
  topo.loadFw4('upstream-default');
  const lns = await l2tpServer(topo);

  try {
    const lacs = [l2tpClient(topo, 'c1'), l2tpClient(topo, 'c2')];
    const outcomes = await Promise.all(lacs.map((l) => l2tpOutcome(l, 10_000)));

    for (const o of outcomes) assert.equal([o.tunnel, o.call], [true, true], o.log);
    await Promise.all(lacs.map((l) => l.stop()));

    topo.flushConntrack();
    handDrop('udp dport 1701');
    const blocked = l2tpClient(topo, 'c1');
    const o = await l2tpOutcome(blocked, 1000);

    assert.not.ok(o.tunnel, o.log);
    await blocked.stop();
  } finally {
    removeHandDrop();
    await lns.stop();
  }
});

test('teardown kills what the bed started and deletes its namespaces', async () => {
  const other = Topology.create('upstream-default');
  const d = other.daemon('server', 'sleeper', ['sleep', '60']);
  const names = Object.values(other.ns);

  assert.ok(names.every((n) => existsSync(`/run/netns/${n}`)));
  other.destroy();
  assert.is(await d.exited, 128);
  assert.ok(names.every((n) => !existsSync(`/run/netns/${n}`)), names.join(' '));
  assert.not.ok(existsSync(other.dir));
});

test.run();
