// Who may pass: the `family` and `host` options, with vpn-passthrough
// applied beside a genuine fw4 ruleset (both fixtures). family ipv4 drops
// the protocol over IPv6 and family ipv6 over IPv4; a host list (addresses,
// CIDR, MAC) lets the listed clients through and drops the others. Checked
// with probes for every member of every protocol, and with real peers.

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { Passthrough } from './lib/passthrough.ts';
import { pptpServer, pptpSession } from './lib/pptp.ts';
import { expectReach, reach, Sniffer, wrong, type Reach } from './lib/probes.ts';
import { initiate, ipsecClient, ipsecServer } from './lib/strongswan.ts';
import { ADDR, FW4, Topology, type Client } from './lib/topology.ts';

const topo = Topology.create();
const vpn = new Passthrough(topo);
let sniffer: Sniffer;

test.before(async () => {
  sniffer = await Sniffer.start(topo);
  await pptpServer(topo);
});
test.after(() => topo.destroy());

const all = (p: { family?: string; hosts?: string[] }) => ({ pptp: p, l2tp: p, ipsec: p });

/** Probes every protocol from each client (conntrack flushed before each:
 * portless protocols collide at the NAT) and compares with what is expected. */
async function assertReachFrom(expected: Partial<Record<Client, Reach>>): Promise<void> {
  const found: Record<string, string[]> = {};

  for (const [client, reachable] of Object.entries(expected) as [Client, Reach][]) {
    topo.flushConntrack();
    found[client] = wrong(await reach(topo, sniffer, client), reachable);
  }
  assert.equal(found, Object.fromEntries(Object.keys(expected).map((c) => [c, []])));
}

/** Whether strongSwan tunnels come up: from c1 over IPv4 and from c2 over IPv6, at once. */
async function ikeUp(): Promise<{ 4: boolean; 6: boolean }> {
  topo.flushConntrack();
  const server = await ipsecServer(topo);

  try {
    const clients = await Promise.all([ipsecClient(topo, 'c1', 4), ipsecClient(topo, 'c2', 6)]);

    try {
      const [v4, v6] = await Promise.all(clients.map(initiate));

      return { 4: v4!.established, 6: v6!.established };
    } finally {
      await Promise.all(clients.map((c) => c.stop()));
    }
  } finally {
    await server.stop();
  }
}

for (const fw4 of FW4) {
  for (const [family, passing] of [['ipv4', 4], ['ipv6', 6]] as const) {
    test(`[${fw4}] family ${family}: every protocol passes over IPv${passing} only, from both clients`, async () => {
      topo.loadFw4(fw4);
      vpn.mustApply(all({ family }));
      const expected = expectReach((_p, f) => f === passing);

      await assertReachFrom({ c1: expected, c2: expected });
    });

    test(`[${fw4}] family ${family}: a real IKEv2 tunnel comes up over IPv${passing} and not over the other family`, async () => {
      assert.equal(await ikeUp(), { 4: passing === 4, 6: passing === 6 });
    });
  }

  test(`[${fw4}] family ipv4 for PPTP only: PPTP over IPv6 is dropped, L2TP and IPsec over IPv6 still pass`, async () => {
    vpn.mustApply({ pptp: { family: 'ipv4' } });
    const expected = expectReach((p, f) => p !== 'pptp' || f === 4);

    await assertReachFrom({ c1: expected });
  });

  test(`[${fw4}] hosts: a listed IPv4 address passes (IPv4 only), the other client is dropped`, async () => {
    vpn.mustApply(all({ hosts: [ADDR.c1[4]] }));

    await assertReachFrom({ c1: expectReach((_p, f) => f === 4), c2: expectReach(() => false) });
  });

  test(`[${fw4}] hosts: an IPv4 CIDR for c1 and an IPv6 address for c2 pass exactly those`, async () => {
    vpn.mustApply(all({ hosts: [`${ADDR.c1[4]}/32`, ADDR.c2[6]] }));

    await assertReachFrom({ c1: expectReach((_p, f) => f === 4), c2: expectReach((_p, f) => f === 6) });
  });

  test(`[${fw4}] hosts: a MAC address lets that client through over both families, the other is dropped`, async () => {
    const mac = JSON.parse(topo.exec('c2', ['ip', '-j', 'link', 'show', 'eth0']).stdout)[0].address as string;

    vpn.mustApply(all({ hosts: [mac] }));
    await assertReachFrom({ c1: expectReach(() => false), c2: expectReach(() => true) });
  });

  test(`[${fw4}] hosts: real peers — c1 listed gets PPTP (with its GRE) and an IKEv2 tunnel, c2 gets neither`, async () => {
    vpn.mustApply(all({ hosts: [ADDR.c1[4]] }));
    topo.flushConntrack();
    const [p1, p2] = await Promise.all([pptpSession(topo, 'c1'), pptpSession(topo, 'c2', 4, { waitS: 0.5, connectS: 0.5 })]);

    await Promise.all([p1.close(), p2.close()]);
    assert.equal([p1.control.control, p1.burst?.own], ['ok', 3], JSON.stringify(p1));
    assert.is(p2.control.control, 'failed', JSON.stringify(p2.control));

    const server = await ipsecServer(topo);

    try {
      const clients = await Promise.all([ipsecClient(topo, 'c1'), ipsecClient(topo, 'c2')]);

      try {
        const [i1, i2] = await Promise.all(clients.map(initiate));

        assert.ok(i1!.established, i1!.output);
        assert.not.ok(i2!.established, i2!.output);
      } finally {
        await Promise.all(clients.map((c) => c.stop()));
      }
    } finally {
      await server.stop();
    }
  });
}

test.run();
