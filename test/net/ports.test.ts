// Which TCP and UDP packets count as VPN: those of connections whose
// original direction goes to a VPN port (conntrack's original destination
// port), whichever way a packet goes. With every protocol switched off,
// beside a genuine fw4 ruleset (both fixtures), an inside host that uses
// source port 500, 1701, 4500 (UDP) or 1723 (TCP) for some other service
// gets its answers, over IPv4 and IPv6; the VPN ports themselves stay
// blocked. Packets conntrack does not track (a notrack rule) are still
// classified by their ports, either way round, as they always were.

import { resolve } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { Passthrough } from './lib/passthrough.ts';
import { assertReach, expectReach, newTag, reach, Sniffer } from './lib/probes.ts';
import { exec, PYTHON } from './lib/proc.ts';
import { ADDR, FW4, Topology, type Family } from './lib/topology.ts';

const ECHO = resolve('test/net/peers/echo.py');
const SERVICE = 7007;
const OFF = { pptp: { enabled: false }, l2tp: { enabled: false }, ipsec: { enabled: false } };

const topo = Topology.create();
const vpn = new Passthrough(topo);
let sniffer: Sniffer;

test.before(async () => {
  sniffer = await Sniffer.start(topo);
  for (const proto of ['udp', 'tcp']) {
    const d = topo.daemon('server', `echo-${proto}`, [PYTHON, ECHO, 'server', proto, String(SERVICE)]);

    if (!(await d.waitJson((v) => v.ready === true, 10_000))) throw new Error(`echo ${proto} server did not start: ${d.text()}`);
  }
});
test.after(() => topo.destroy());

/** From c1's source port `sport` to the echo service: did the answer come back? */
async function echoed(proto: 'udp' | 'tcp', sport: number, family: Family, timeoutS = 10): Promise<{ replied: boolean; error: string | null }> {
  const r = await exec([PYTHON, ECHO, 'client', proto, ADDR.server[family], String(SERVICE), String(sport), newTag(`echo-${proto}${sport}`), String(timeoutS)], { ns: topo.ns.c1, timeoutMs: (timeoutS + 10) * 1000 });

  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{"replied":false,"error":"no output"}') as { replied: boolean; error: string | null };
}

const SOURCE_PORTS = [['udp', 500], ['udp', 1701], ['udp', 4500], ['tcp', 1723]] as const;

for (const fw4 of FW4) {
  for (const family of [4, 6] as const) {
    test(`[${fw4}] IPv${family}: every protocol off, another service used from source port 500, 1701, 4500 (UDP) and 1723 (TCP) answers`, async () => {
      topo.loadFw4(fw4);
      vpn.mustApply(OFF);
      const dropped = (s = vpn.status()) => [s.protocols.pptp.dropped.packets, s.protocols.l2tp.dropped.packets, s.protocols.ipsec.dropped.packets];
      const before = dropped();

      for (const [proto, sport] of SOURCE_PORTS) {
        topo.flushConntrack();
        const r = await echoed(proto, sport, family);

        assert.ok(r.replied, `${proto} from source port ${sport}: ${r.error}`);
      }
      assert.equal(dropped(), before, 'no packet of it counted as a VPN drop');
    });
  }

  test(`[${fw4}] the VPN ports themselves stay blocked (probes of every member, both families)`, async () => {
    vpn.mustApply(OFF);
    topo.flushConntrack();
    assertReach(await reach(topo, sniffer, 'c1'), expectReach(() => false), 'all off');
  });
}

test('untracked packets (a notrack rule) are classified by their ports as before: L2TP off drops them, on passes them', async () => {
  topo.loadFw4('upstream-default');
  // Another table's raw-priority chain takes c1's UDP out of conntrack, as a notrack rule would.
  topo.nft(['-f', '-'], 'table inet notrack_test {\n\tchain pre {\n\t\ttype filter hook prerouting priority raw; policy accept;\n\t\tiifname "br-lan" meta l4proto udp notrack\n\t}\n}\n');
  try {
    vpn.mustApply({ l2tp: { enabled: false } });
    topo.flushConntrack();
    assertReach(await reach(topo, sniffer, 'c1', ['l2tp']), expectReach(() => false, ['l2tp']), 'untracked L2TP, switched off');
    assert.ok(vpn.status().protocols.l2tp.dropped.packets > 0, 'counted as L2TP drops');

    vpn.mustApply({});
    assertReach(await reach(topo, sniffer, 'c1', ['l2tp']), expectReach(() => true, ['l2tp']), 'untracked L2TP, switched on');
  } finally {
    topo.nft(['delete', 'table', 'inet', 'notrack_test']);
  }
});

test.run();
