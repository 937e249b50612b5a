// It opens nothing inbound. Beside a genuine fw4 ruleset (both fixtures),
// with vpn-passthrough applied in several shapes, an outside host probing an
// inside host over IPv6 (routed, no NAT in the way) gets exactly as far as
// with fw4 alone: never TCP 1723 or GRE, not even while that inside host
// has a PPTP session of its own with the same server.

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { Passthrough, type PassthroughConfig } from './lib/passthrough.ts';
import { pptpServer, pptpSession } from './lib/pptp.ts';
import { assertReach, reach, Sniffer, type Reach } from './lib/probes.ts';
import { ADDR, FW4, Topology } from './lib/topology.ts';

const topo = Topology.create();
const vpn = new Passthrough(topo);
let inside: Sniffer;

test.before(async () => {
  inside = await Sniffer.start(topo, 'c1');
  await pptpServer(topo);
});
test.after(() => topo.destroy());

/** What the server gets through to c1 over IPv6, conntrack flushed first. */
async function inbound(): Promise<Reach> {
  topo.flushConntrack();

  return reach(topo, inside, 'server', undefined, [6]);
}

const SHAPES: [string, PassthroughConfig][] = [
  ['everything enabled', {}],
  ['family ipv6 everywhere', { pptp: { family: 'ipv6' }, l2tp: { family: 'ipv6' }, ipsec: { family: 'ipv6' } }],
  ['a host list naming c1', { pptp: { hosts: [ADDR.c1[6]] }, l2tp: { hosts: [ADDR.c1[6]] }, ipsec: { hosts: [ADDR.c1[6]] } }],
  ['everything disabled', { pptp: { enabled: false }, l2tp: { enabled: false }, ipsec: { enabled: false } }],
];

for (const fw4 of FW4) {
  test(`[${fw4}] an outside host reaches an inside host over IPv6 exactly as far as with fw4 alone, never with TCP 1723 or GRE`, async () => {
    topo.loadFw4(fw4);
    vpn.mustApply({ enabled: false });
    assert.is(vpn.table(), null, 'master switch off: our table is gone');
    const alone = await inbound();

    assert.equal([alone['pptp tcp/1723 v6'], alone['pptp gre v6']], [false, false], 'fw4 alone keeps them out');
    for (const [name, config] of SHAPES) {
      vpn.mustApply(config);
      assert.ok(vpn.table() !== null, name);
      assertReach(await inbound(), alone, name);
    }
  });

  test(`[${fw4}] while c1 has its own PPTP session (helper, expectations), the server still cannot start TCP 1723 or GRE toward it`, async () => {
    vpn.mustApply({});
    topo.flushConntrack();
    const session = await pptpSession(topo, 'c1', 6, { gre: 1, waitS: 0.3 });

    try {
      assert.is(session.control.control, 'ok', JSON.stringify(session.control));
      const r = await reach(topo, inside, 'server', ['pptp'], [6]);

      assertReach(r, { 'pptp tcp/1723 v6': false, 'pptp gre v6': false }, 'server -> c1');
    } finally {
      await session.close();
    }
  });
}

test.run();
