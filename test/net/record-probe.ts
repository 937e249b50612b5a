// Records test/fixtures/probe/*.txt: the bytes real VPN servers and clients
// exchange in the lab, as they cross the router's outside interface
// (peers/capture.py), for the codec tests. Not a test: run it by hand, as
// root, when a fixture is to be recorded again (test/fixtures/probe/README.md):
//
//   npx esbuild firmware/main.node.ts --bundle --platform=node --format=esm \
//     --define:__VERSION__='"record"' --outfile=dist/record/vpn-passthrough.mjs
//   npx esbuild test/net/record-probe.ts --bundle --platform=node --format=esm \
//     --packages=external --outfile=dist/record/record-probe.mjs
//   VPNPT_TEST_OUT=dist/record node dist/record/record-probe.mjs

import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { OWN } from '../lib/fixtures.ts';
import { Passthrough } from './lib/passthrough.ts';
import { pptpdServer } from './lib/pptpd.ts';
import { PYTHON, sleep, type Daemon } from './lib/proc.ts';
import { initiate, ipsecClient, ipsecServer, startCharon } from './lib/strongswan.ts';
import { ADDR, Topology } from './lib/topology.ts';
import { l2tpClient, l2tpOutcome, l2tpServer } from './lib/xl2tpd.ts';

interface Captured {
  t: number;
  dir: 'in' | 'out';
  proto: 'udp' | 'tcp';
  src: string;
  dst: string;
  sport: number;
  dport: number;
  data: string;
}

const DIR = join(OWN, 'probe');
const topo = Topology.create();
const vpn = new Passthrough(topo);
let capture: Daemon;

/** Lines captured while body runs, as "C>S proto SRC SPORT DST DPORT hex"
 * (C>S: to the server, ADDR.server; S>C: from it). */
async function record(name: string, what: string, body: () => Promise<void>, keep: (c: Captured) => boolean = () => true): Promise<void> {
  const from = capture.lines.length;

  await body();
  await sleep(300);
  const lines = capture.lines.slice(from).flatMap((l) => (l.text.startsWith('{"t"') ? [JSON.parse(l.text) as Captured] : [])).filter(keep);
  const server = [ADDR.server[4], ADDR.server[6]] as string[];
  const text = lines.map((c) => `${server.includes(c.dst) ? 'C>S' : 'S>C'} ${c.proto} ${c.src} ${c.sport} ${c.dst} ${c.dport} ${c.data}`);

  writeFileSync(join(DIR, `${name}.txt`), [`# ${what}`, '# Recorded by test/net/record-probe.ts on the router\'s outside interface (eth1), after NAT.', '# C>S to the server, S>C back: protocol, source address and port, destination address and port, payload (TCP: one segment).', ...text, ''].join('\n'));
  console.log(`${name}: ${text.length} lines`);
}

async function main(): Promise<void> {
  mkdirSync(DIR, { recursive: true });
  vpn.mustApply({});
  capture = topo.daemon('router', 'capture', [PYTHON, resolve('test/net/peers/capture.py'), 'eth1']);
  await capture.waitJson((v) => v.ready === true, 3000);

  const charon = await ipsecServer(topo);
  const lns = await l2tpServer(topo);
  const pptpd = await pptpdServer(topo);
  const probe = (args: string[]) => async () => void vpn.cli(['probe', ...args]);
  // Each case keeps its own protocol's packets (a server may still retransmit to an earlier one).
  const ike = (c: Captured) => c.proto === 'udp' && [c.sport, c.dport].some((p) => p === 500 || p === 4500);
  const l2tp = (c: Captured) => c.proto === 'udp' && (c.sport === 1701 || c.dport === 1701);
  const pptp = (c: Captured) => c.proto === 'tcp';

  await record('probe-strongswan', 'vpn-passthrough probe 10.0.2.2 --protocol ipsec: strongSwan 5.9.8 (kernel-libipsec) as responder, UDP 500 and 4500 (it prefers MODP_3072)', probe([ADDR.server[4], '--protocol', 'ipsec']), ike);
  await record('probe-xl2tpd', 'vpn-passthrough probe 10.0.2.2 --protocol l2tp: xl2tpd 1.3.18 as LNS', probe([ADDR.server[4], '--protocol', 'l2tp']), l2tp);
  await record('probe-pptpd', 'vpn-passthrough probe 10.0.2.2 --protocol pptp: pptpd 1.4.0 (Debian)', probe([ADDR.server[4], '--protocol', 'pptp']), pptp);

  await record('client-strongswan', 'a strongSwan 5.9.8 initiator in c1 (masqueraded by the router) bringing up a tunnel to the strongSwan responder: IKE_SA_INIT on 500, IKE_AUTH on 4500', async () => {
    const client = await ipsecClient(topo, 'c1');

    await initiate(client);
    await client.stop();
  }, ike);
  await record('client-xl2tpd', 'an xl2tpd 1.3.18 LAC in c1 (masqueraded by the router) dialing the xl2tpd LNS', async () => {
    const lac = l2tpClient(topo, 'c1');

    await l2tpOutcome(lac, 3000);
    await lac.stop();
  }, l2tp);
  await record('client-pptp-linux', 'pptp-linux 1.10.0 (pptp --nolaunchpppd) in c1 (masqueraded by the router) opening a control connection and a call to pptpd', async () => {
    const client = topo.daemon('c1', 'pptp', ['pptp', ADDR.server[4], '--nolaunchpppd', '--loglevel', '2']);

    await sleep(1500);
    await client.stop();
  }, pptp);

  await charon.stop();
  /** A responder that accepts only this proposal. */
  const strict = (proposals: string) => startCharon(topo, 'server', `connections {
  rw {
    local_addrs = ${ADDR.server[4]}
    proposals = ${proposals}
    local {
      auth = psk
    }
    remote {
      auth = psk
    }
  }
}
`);

  await record('probe-strongswan-modp2048', 'vpn-passthrough probe 10.0.2.2 --protocol ipsec: strongSwan 5.9.8 responder accepting aes128-sha256-modp2048 (the probe\'s own group): a full IKE_SA_INIT response', async () => {
    const server = await strict('aes128-sha256-modp2048');

    await vpn.cli(['probe', ADDR.server[4], '--protocol', 'ipsec']);
    await server.stop();
  }, ike);
  await record('probe-strongswan-no-proposal', 'vpn-passthrough probe 10.0.2.2 --protocol ipsec: strongSwan 5.9.8 responder accepting only aes192-sha256-modp2048 (which the probe does not offer)', async () => {
    const server = await strict('aes192-sha256-modp2048');

    await vpn.cli(['probe', ADDR.server[4], '--protocol', 'ipsec']);
    await server.stop();
  }, ike);

  await lns.stop();
  await pptpd.stop();
}

main().then(
  () => topo.destroy(),
  (e) => {
    console.error(e);
    topo.destroy();
    process.exit(1);
  },
);
