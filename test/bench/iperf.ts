// Benchmark 2: TCP throughput (iperf3) from an inside client to the outside
// server through the namespace router of test/net (genuine fw4 ruleset,
// masquerade), without our package and with it — our table (the default
// configuration, and for information with L2TP switched off, when every
// packet is classified) and fw4's ruleset as fw4 renders it with our
// include files in (the jump to the VPN servers' chain) — in turn. Prints
// one JSON line of raw samples (bits/s).
//
//   node iperf.mjs ROUNDS SECONDS CLI

import { setTimeout as sleep } from 'node:timers/promises';

import { Passthrough } from '../net/lib/passthrough.ts';
import { loadFw4Hooked } from '../net/lib/servers.ts';
import { ADDR, Topology } from '../net/lib/topology.ts';

const [rounds, seconds] = process.argv.slice(2).map(Number) as [number, number];
const topo = Topology.create('upstream-default');

try {
  const pt = new Passthrough(topo);
  const server = topo.daemon('server', 'iperf3', ['iperf3', '-s']);

  await sleep(300);
  const run = () => {
    const r = topo.exec('c1', ['iperf3', '-c', ADDR.server[4], '-t', String(seconds), '-J'], undefined);
    const bps = (JSON.parse(r.stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second;

    return bps;
  };
  const without: number[] = [];
  const withTable: number[] = [];
  const oneOff: number[] = [];

  for (let i = 0; i < rounds; i++) {
    topo.nft(['delete', 'table', 'inet', 'vpn_passthrough']);
    topo.loadFw4('upstream-default');
    without.push(run());
    loadFw4Hooked(topo, 'upstream-default', pt.statedir);
    pt.mustApply({});
    withTable.push(run());
    pt.mustApply({ l2tp: { enabled: false } });
    oneOff.push(run());
  }
  await server.stop();
  console.log(JSON.stringify({ without, with: withTable, oneOff }));
} finally {
  topo.destroy();
}
