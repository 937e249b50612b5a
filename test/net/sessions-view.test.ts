// The sessions view shows only what is true on this router: Traffic and Age
// follow the router's conntrack sysctls (nf_conntrack_acct,
// nf_conntrack_timestamp), "n/a" where a protocol has no helper, and a
// raw-ESP collision names the server and every inside host, also the one
// whose ESP the NAT dropped (no conntrack entry; our esp_senders set knows
// it). The command and the LuCI page say the same.

import { readFileSync } from 'node:fs';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { SessionsReport } from '../../firmware/core/model.ts';
import { Luci, runView, VIEW } from '../luci/luci.ts';
import { Passthrough } from './lib/passthrough.ts';
import { newTag, sendProbes } from './lib/probes.ts';
import { must } from './lib/proc.ts';
import { ADDR, Topology } from './lib/topology.ts';
import { l2tpClient, l2tpOutcome, l2tpServer } from './lib/xl2tpd.ts';

const topo = Topology.create();
const vpn = new Passthrough(topo);
const SERVER: string = ADDR.server[4];

test.after(() => topo.destroy());

const sysctl = (name: string, value: number) => must(topo.sh('router', `echo ${value} > /proc/sys/net/netfilter/${name}`), name);
const report = () => JSON.parse(must(vpn.cli(['sessions', '--json']), 'sessions --json').stdout) as SessionsReport;

async function pageText(r: SessionsReport): Promise<string> {
  const { node } = await runView(readFileSync(VIEW, 'utf8'), new Luci((_o, m) => (m === 'sessions' ? r : 4)));

  return node.textContent;
}

test('raw ESP from two inside hosts to one server: the warning names the server and both, the loser too', async () => {
  vpn.mustApply({});
  topo.flushConntrack();
  await sendProbes(topo, 'c1', [{ kind: 'esp', dst: SERVER, tag: newTag('esp-c1'), count: 2 }]);
  await sendProbes(topo, 'c2', [{ kind: 'esp', dst: SERVER, tag: newTag('esp-c2'), count: 2 }]);
  const r = report();
  const esp = r.sessions.filter((s) => s.transport === 'esp');

  assert.equal(esp.map((s) => s.inside), [ADDR.c1[4]], 'only the first has a conntrack entry');
  const collision = r.warnings.find((w) => w.code === 'esp_collision')!;

  assert.equal([collision.value, collision.hosts], [SERVER, [ADDR.c1[4], ADDR.c2[4]]]);
  assert.match(must(vpn.cli(['sessions']), 'sessions').stdout, /warning: vpn-passthrough\.ipsec='10\.0\.2\.2': inside hosts 192\.168\.1\.20, 192\.168\.1\.21 all send raw ESP to the IPsec server 10\.0\.2\.2: .* Only 192\.168\.1\.20 gets through now/);
  assert.match(await pageText(r), /Inside hosts 192\.168\.1\.20, 192\.168\.1\.21 all send raw ESP to the IPsec server 10\.0\.2\.2: through NAT only one of them can work/);
});

test('conntrack keeping no byte counts nor timestamps: no Traffic, no Age, and the sysctls named; ESP and L2TP helpers n/a', async () => {
  sysctl('nf_conntrack_acct', 0);
  sysctl('nf_conntrack_timestamp', 0);
  await l2tpServer(topo);
  assert.ok((await l2tpOutcome(l2tpClient(topo, 'c1'), 5000)).tunnel, 'an L2TP tunnel from c1');
  const r = report();
  const text = must(vpn.cli(['sessions']), 'sessions').stdout;

  assert.equal(r.conntrack, { accounting: false, timestamps: false });
  assert.match(text, /^protocol +transport +inside +outside +helper$/m);
  assert.match(text, /^l2tp +l2tp +192\.168\.1\.20:1701 +10\.0\.2\.2:1701 +n\/a$/m);
  assert.match(text, /^ipsec +esp +192\.168\.1\.20 +10\.0\.2\.2( \(no reply\))? +n\/a$/m);
  assert.match(text, /nf_conntrack_acct=1/);
  assert.match(text, /nf_conntrack_timestamp=1/);
  const page = await pageText(r);

  assert.not.match(page, /TrafficAge/);
  assert.match(page, /Traffic is not shown.*Age is not shown/);
});

test('with accounting and timestamps on, new sessions fill Traffic and Age', async () => {
  sysctl('nf_conntrack_acct', 1);
  sysctl('nf_conntrack_timestamp', 1);
  topo.flushConntrack();
  await sendProbes(topo, 'c2', [{ kind: 'udp', dst: SERVER, port: 4500, sport: 4500, tag: newTag('natt-c2'), count: 3 }]);
  const r = report();
  const natT = r.sessions.find((s) => s.transport === 'nat-t' && s.inside === ADDR.c2[4])!;

  assert.equal(r.conntrack, { accounting: true, timestamps: true });
  assert.equal([natT.packets, typeof natT.age], [3, 'number']);
  const text = must(vpn.cli(['sessions']), 'sessions').stdout;

  assert.match(text, /^protocol +transport +inside +outside +helper +traffic +age$/m);
  assert.match(text, /^ipsec +nat-t +192\.168\.1\.21:4500 +10\.0\.2\.2:4500( \(no reply\))? +n\/a +3 pkts \/ \d+ B +\d+ s$/m);
  assert.not.match(text, /^\(no /m);
  assert.match(await pageText(r), /TrafficAge/);
});

test.run();
