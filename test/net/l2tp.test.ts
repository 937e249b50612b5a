// L2TP through the router with vpn-passthrough applied beside a genuine fw4
// ruleset (both fixtures). Enabled: real xl2tpd LACs in both inside hosts get
// their control tunnel and call from one LNS outside. Disabled: no tunnel,
// and UDP 1701 is dropped over IPv4 and IPv6 while the others pass.

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { Passthrough } from './lib/passthrough.ts';
import type { Daemon } from './lib/proc.ts';
import { assertReach, expectReach, reach, Sniffer } from './lib/probes.ts';
import { FW4, Topology } from './lib/topology.ts';
import { l2tpClient, l2tpOutcome, l2tpServer } from './lib/xl2tpd.ts';

const topo = Topology.create();
const vpn = new Passthrough(topo);
let sniffer: Sniffer;
let lns: Daemon;

test.before(async () => {
  sniffer = await Sniffer.start(topo);
  lns = await l2tpServer(topo);
});
test.after(() => topo.destroy());

for (const fw4 of FW4) {
  test(`[${fw4}] enabled: xl2tpd in both clients gets a control tunnel and a call from one LNS at once`, async () => {
    topo.loadFw4(fw4);
    vpn.mustApply({ l2tp: { enabled: true } });
    const from = lns.lines.length;
    const lacs = [l2tpClient(topo, 'c1'), l2tpClient(topo, 'c2')];

    try {
      const outcomes = await Promise.all(lacs.map((l) => l2tpOutcome(l, 10_000)));

      outcomes.forEach((o, i) => assert.equal({ tunnel: o.tunnel, call: o.call }, { tunnel: true, call: true }, `c${i + 1}: ${o.log}`));
      const first = await lns.waitFor((l) => /Call established with 10\.0\.2\.15/.test(l.text), 1000, from);
      const second = first && (await lns.waitFor((l) => l !== first && /Call established with 10\.0\.2\.15/.test(l.text), 1000, from));

      assert.ok(second, `the LNS saw two calls from the router's (masqueraded) address:\n${lns.text()}`);
      assert.ok(vpn.status().protocols.l2tp.passed.packets > 0, 'the l2tp_pass counter counts');
    } finally {
      await Promise.all(lacs.map((l) => l.stop()));
    }
  });

  test(`[${fw4}] enabled: UDP 1701 passes over IPv4 and IPv6`, async () => {
    topo.flushConntrack();
    assertReach(await reach(topo, sniffer, 'c1', ['l2tp']), expectReach(() => true, ['l2tp']), 'c1');
  });

  test(`[${fw4}] disabled: no tunnel comes up, UDP 1701 is dropped (IPv4, IPv6), the others pass`, async () => {
    topo.flushConntrack();
    vpn.mustApply({ l2tp: { enabled: false } });
    const lac = l2tpClient(topo, 'c1');

    try {
      const o = await l2tpOutcome(lac, 1000);

      assert.not.ok(o.tunnel, o.log);
    } finally {
      await lac.stop();
    }
    for (const client of ['c1', 'c2'] as const) {
      topo.flushConntrack();
      assertReach(await reach(topo, sniffer, client), expectReach((p) => p !== 'l2tp'), client);
    }
    assert.ok(vpn.status().protocols.l2tp.dropped.packets > 0, 'the l2tp_drop counter counts');
  });
}

test.run();
