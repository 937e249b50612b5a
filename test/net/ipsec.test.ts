// IPsec through the router with vpn-passthrough applied beside a genuine
// fw4 ruleset (both fixtures). Enabled: real strongSwan IKEv2 clients in both
// inside hosts bring up NAT-T tunnels to one server at once and ping through
// them (IPv4; and over IPv6). Disabled: a tunnel cannot come up, and UDP
// 500, UDP 4500, raw ESP and AH are each dropped, over IPv4 and IPv6.

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { Passthrough } from './lib/passthrough.ts';
import { assertReach, expectReach, newTag, probe, reach, Sniffer } from './lib/probes.ts';
import { initiate, ipsecClient, ipsecServer, tunnelPing, type Charon } from './lib/strongswan.ts';
import { ADDR, FW4, Topology, type Family } from './lib/topology.ts';

const topo = Topology.create();
const vpn = new Passthrough(topo);
let sniffer: Sniffer;

test.before(async () => {
  sniffer = await Sniffer.start(topo);
});
test.after(() => topo.destroy());

/** A fresh server and one client per name, torn down after `body`. */
async function withTunnels(clients: readonly ('c1' | 'c2')[], family: Family, body: (charons: Charon[]) => Promise<void>): Promise<void> {
  topo.flushConntrack();
  const server = await ipsecServer(topo);

  try {
    const charons = await Promise.all(clients.map((c) => ipsecClient(topo, c, family)));

    try {
      await body(charons);
    } finally {
      await Promise.all(charons.map((c) => c.stop()));
    }
  } finally {
    await server.stop();
  }
}

for (const fw4 of FW4) {
  test(`[${fw4}] enabled: two strongSwan clients bring up NAT-T tunnels to one server at once and ping inside them`, async () => {
    topo.loadFw4(fw4);
    vpn.mustApply({ ipsec: { enabled: true } });
    await withTunnels(['c1', 'c2'], 4, async (charons) => {
      const results = await Promise.all(charons.map(initiate));

      results.forEach((r, i) => assert.ok(r.established, `${charons[i]!.host}: ${r.output}`));
      for (const c of ['c1', 'c2'] as const) {
        const ping = await tunnelPing(topo, c);

        assert.is(ping.received, 3, `${c}: ${ping.output}`);
      }
      const natT = topo.conntrack().filter((l) => / dport=4500 /.test(l));

      assert.equal(natT.map((l) => /src=(\S+)/.exec(l)![1]).sort(), [ADDR.c1[4], ADDR.c2[4]], natT.join('\n'));
      assert.ok(vpn.status().protocols.ipsec.passed.packets > 0, 'the ipsec_pass counter counts');
    });
  });

  test(`[${fw4}] enabled: a strongSwan tunnel comes up over IPv6 too`, async () => {
    await withTunnels(['c1'], 6, async ([c1]) => {
      const r = await initiate(c1!);

      assert.ok(r.established, r.output);
      assert.is((await tunnelPing(topo, 'c1')).received, 3);
    });
  });

  test(`[${fw4}] enabled: UDP 500, UDP 4500, ESP and AH each pass, IPv4 and IPv6`, async () => {
    topo.flushConntrack();
    assertReach(await reach(topo, sniffer, 'c1', ['ipsec']), expectReach(() => true, ['ipsec']), 'c1');
  });

  test(`[${fw4}] disabled: the tunnel cannot come up (IPv4, IPv6) and UDP 500, UDP 4500, ESP, AH are each dropped; the others pass`, async () => {
    vpn.mustApply({ ipsec: { enabled: false } });
    for (const family of [4, 6] as const) {
      await withTunnels(['c1'], family, async ([c1]) => {
        const r = await initiate(c1!);

        assert.not.ok(r.established, r.output);
        assert.ok(r.ms < 3000, `giving up took ${r.ms} ms`);
      });
    }
    for (const client of ['c1', 'c2'] as const) {
      topo.flushConntrack();
      assertReach(await reach(topo, sniffer, client), expectReach((p) => p !== 'ipsec'), client);
    }
    assert.ok(vpn.status().protocols.ipsec.dropped.packets > 0, 'the ipsec_drop counter counts');
  });

  test(`[${fw4}] disabled: AH carrying a UDP datagram (transport mode) is dropped too, IPv4 and IPv6`, async () => {
    topo.flushConntrack();
    const tags = [newTag('ah-udp-v4'), newTag('ah-udp-v6')];
    const arrived = await probe(topo, 'c1', sniffer, [
      { kind: 'ah', next: 17, dst: ADDR.server[4], tag: tags[0]! },
      { kind: 'ah', next: 17, dst: ADDR.server[6], tag: tags[1]! },
    ]);

    assert.equal(tags.map((t) => arrived.get(t)!.length), [0, 0]);
  });
}

test.run();
