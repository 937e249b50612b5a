// Toggling while traffic flows, beside a genuine fw4 ruleset (both
// fixtures). With a PPTP call (GRE + control echoes), an IPsec tunnel
// (ping inside it) and an L2TP flow all running, `vpn-passthrough disable X`
// cuts X's established flow at once, and only X's; `enable` lets new
// sessions through again; and no apply, good or bad, interrupts unrelated
// traffic (a TCP stream and a ping between the clients and the server).

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { Passthrough } from './lib/passthrough.ts';
import { now, sleep, until } from './lib/proc.ts';
import { pptpServer, pptpSession, pptpStream } from './lib/pptp.ts';
import { Sniffer, type Packet } from './lib/probes.ts';
import { initiate, INNER, ipsecClient, ipsecServer, tunnelPing } from './lib/strongswan.ts';
import { ADDR, FW4, Topology } from './lib/topology.ts';
import { pinger, tcpStream, udpFlow } from './lib/traffic.ts';
import { l2tpClient, l2tpOutcome, l2tpServer } from './lib/xl2tpd.ts';

const topo = Topology.create();
const vpn = new Passthrough(topo);
let sniffer: Sniffer;

test.before(async () => {
  sniffer = await Sniffer.start(topo);
});
test.after(() => topo.destroy());

/** How long after a toggle returns we watch for packets that should not
 * come: in arrival time (the kernel's stamps), however late they are read. */
const WATCH_MS = 250;
/** A bound for what must happen, on a machine as busy as it may be. */
const BOUND_MS = 10_000;

const fromRouter = (p: Packet) => p.src === ADDR.router.wan[4];
const flows = {
  pptpGre: (tag: string) => (p: Packet) => p.proto === 'gre' && !!p.tag?.startsWith(`${tag}.`),
  pptpControl: (p: Packet) => p.proto === 'tcp' && p.dport === 1723 && fromRouter(p),
  natT: (p: Packet) => p.proto === 'udp' && p.dport === 4500 && fromRouter(p),
  l2tp: (tag: string) => (p: Packet) => p.proto === 'udp' && p.dport === 1701 && !!p.tag?.startsWith(`${tag}.`),
  /** Pings from c1 to the server, which no toggle touches: the sniffer's clock. */
  clock: (p: Packet) => p.proto === 'icmp' && fromRouter(p),
};

/** Packets at the server matching `match` that arrived after time t. */
const arrivedAfter = (t: number, match: (p: Packet) => boolean) => sniffer.packets().filter((p) => p.t > t && match(p)).length;

/** Until the sniffer has read what arrived up to time t (a clock ping that
 * arrived after it), so that a packet that came earlier is not still unread. */
const readUpTo = (t: number) => until(() => arrivedAfter(t, flows.clock) > 0, BOUND_MS, `the sniffer to read past ${Math.round(t)}`);

/** Until at least n packets matching `match` arrived after t. */
const arrive = (t: number, n: number, match: (p: Packet) => boolean, what: string) => until(() => arrivedAfter(t, match) >= n, BOUND_MS, what);

/** Runs a CLI toggle and returns now() at its return. */
function toggle(verb: 'enable' | 'disable', protocol: string): number {
  const r = vpn.cli([verb, protocol]);

  assert.is(r.status, 0, `${verb} ${protocol}: ${r.stderr}`);

  return now();
}

for (const fw4 of FW4) {
  test(`[${fw4}] disable cuts exactly that protocol's established flow at once; enable lets new sessions through`, async () => {
    topo.loadFw4(fw4);
    vpn.mustApply({});
    const pptpd = await pptpServer(topo);
    const ikeServer = await ipsecServer(topo);
    const ike = await ipsecClient(topo, 'c2');

    try {
      // Three established flows: a PPTP call from c1, an IPsec tunnel from c2, L2TP's UDP from c1.
      const call = await pptpStream(topo, 'c1');

      assert.is(call.control.control, 'ok', JSON.stringify(call.control));
      const gre = flows.pptpGre(call.tag);
      const tunnel = await initiate(ike);

      assert.ok(tunnel.established, tunnel.output);
      const tunnelPings = pinger(topo, 'c2', INNER, 0.02);
      const l2tp = udpFlow(topo, 'c1', 4, 1701, 10_000, 10);
      const l2tpFlow = flows.l2tp(l2tp.tag);
      const clock = pinger(topo, 'c1', ADDR.server[4], 0.02);
      const t0 = now();

      for (const [name, match] of [['PPTP GRE', gre], ['PPTP control', flows.pptpControl], ['NAT-T', flows.natT], ['L2TP', l2tpFlow], ['the clock pings', flows.clock]] as const) {
        await arrive(t0, 1, match, `${name} flowing before any toggle`);
      }

      const t1 = toggle('disable', 'pptp');

      await readUpTo(t1 + WATCH_MS);
      assert.is(arrivedAfter(t1, gre), 0, 'no PPTP GRE after disable pptp returned');
      assert.is(arrivedAfter(t1, flows.pptpControl), 0, 'no PPTP control segment after disable pptp returned');
      await until(() => call.daemon.json<{ sent?: number; t?: number }>().filter((e) => e.sent && e.t! * 1000 > t1).length > 5, BOUND_MS, 'the PPTP client to keep sending');
      await arrive(t1, 6, flows.natT, 'the IPsec tunnel, untouched');
      await arrive(t1, 6, l2tpFlow, 'the L2TP flow, untouched');
      assert.is(arrivedAfter(t1, gre), 0, 'still no PPTP GRE');

      const t2 = toggle('disable', 'ipsec');

      await readUpTo(t2 + WATCH_MS);
      assert.is(arrivedAfter(t2, flows.natT), 0, 'no NAT-T packet after disable ipsec returned');
      await arrive(t2, 6, l2tpFlow, 'the L2TP flow, untouched');

      const t3 = toggle('disable', 'l2tp');

      await readUpTo(t3 + WATCH_MS);
      assert.is(arrivedAfter(t3, l2tpFlow), 0, 'no L2TP packet after disable l2tp returned');

      // Enabled again: the running L2TP flow resumes, and new sessions of each protocol come up.
      const t4 = toggle('enable', 'l2tp');

      await arrive(t4, 4, l2tpFlow, 'the L2TP flow to pass again');
      await clock.stop();
      await l2tp.daemon.stop();
      await call.daemon.stop();

      toggle('enable', 'pptp');
      const sessions = await Promise.all([pptpSession(topo, 'c1'), pptpSession(topo, 'c2')]);

      await Promise.all(sessions.map((s) => s.close()));
      for (const s of sessions) assert.equal([s.control.control, s.burst?.own], ['ok', 3], `${s.client}: ${JSON.stringify(s)}`);

      toggle('enable', 'ipsec');
      const fresh = await ipsecClient(topo, 'c1');

      try {
        const up = await initiate(fresh);

        assert.ok(up.established, up.output);
        assert.is((await tunnelPing(topo, 'c1')).received, 3);
      } finally {
        await fresh.stop();
      }

      const lns = await l2tpServer(topo);
      const lac = l2tpClient(topo, 'c2');

      try {
        const o = await l2tpOutcome(lac, 10_000);

        assert.equal([o.tunnel, o.call], [true, true], o.log);
      } finally {
        await Promise.all([lac.stop(), lns.stop()]);
      }
      await tunnelPings.stop();
    } finally {
      await Promise.all([pptpd.stop(), ikeServer.stop(), ike.stop()]);
    }
  });

  test(`[${fw4}] no apply interrupts unrelated traffic: a TCP stream and pings run through ten applies`, async () => {
    vpn.mustApply({});
    const stream = await tcpStream(topo, 'c1', 4);
    const ping4 = pinger(topo, 'c2', ADDR.server[4]);
    const ping6 = pinger(topo, 'c2', ADDR.server[6]);
    const configs = [
      { pptp: { enabled: false } },
      { pptp: { enabled: false }, ipsec: { enabled: false } },
      { pptp: { family: 'ipv4' }, l2tp: { family: 'ipv6' } },
      { ipsec: { hosts: [ADDR.c1[4]] } },
      { enabled: false },
      {},
      { pptp: { enabled: false }, l2tp: { enabled: false }, ipsec: { enabled: false } },
      { log: true },
    ];

    try {
      await sleep(100);
      for (const config of configs) {
        vpn.mustApply(config);
        await sleep(30);
      }
      // A failing apply (bad family) and a toggle go by as well.
      assert.is(vpn.apply({ pptp: { family: 'ipv5' } }).status, 1);
      vpn.mustApply({});
      assert.is(vpn.cli(['disable', 'l2tp']).status, 0);
      // Enough traffic to tell, however fast the applies went (tjs starts
      // sooner than Node): each pinger past its 51st request.
      for (const p of [ping4, ping6]) await p.daemon.waitFor((l) => /icmp_seq=5[1-9]|icmp_seq=[6-9]\d|icmp_seq=\d{3}/.test(l.text), 10_000);
    } finally {
      const [s, p4, p6] = await Promise.all([stream.stop(), ping4.stop(), ping6.stop()]);

      assert.is(s.error, null, JSON.stringify(s));
      assert.is(s.echoed, s.sent, JSON.stringify(s));
      assert.ok(s.sent > 50, JSON.stringify(s));
      assert.ok(s.max_gap_ms < 200, `the stream stalled for ${s.max_gap_ms} ms`);
      for (const p of [p4, p6]) {
        assert.ok(p.sent > 50, p.output);
        assert.ok(p.received >= p.sent - 1, p.output); // the last one may be in flight at SIGINT
      }
    }
  });
}

test.run();
