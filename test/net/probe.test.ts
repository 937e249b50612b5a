// `vpn-passthrough probe` in the lab, from the router, against real servers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { Passthrough } from './lib/passthrough.ts';
import { pptpdServer } from './lib/pptpd.ts';
import { ipsecServer } from './lib/strongswan.ts';
import { l2tpServer } from './lib/xl2tpd.ts';
import { ADDR, Topology } from './lib/topology.ts';

const topo = Topology.create();
const vpn = new Passthrough(topo);

test.before(async () => {
  vpn.mustApply({});
  await Promise.all([ipsecServer(topo), l2tpServer(topo), pptpdServer(topo)]);
});
test.after(() => topo.destroy());

test('explore', () => {
  const r = vpn.cli(['probe', ADDR.server[4]]);
  console.log(r.status, r.stdout, r.stderr);
  const j = vpn.cli(['probe', ADDR.server[4], '--json', '--host', ADDR.c1[4]]);
  console.log(j.status, j.stdout, j.stderr);
  const k = vpn.cli(['probe', ADDR.server[6], '--protocol', 'ipsec']);
  console.log(k.status, k.stdout, k.stderr);
  assert.ok(true);
});

test.run();
