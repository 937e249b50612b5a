// PPTP through the router with vpn-passthrough applied beside a genuine fw4
// ruleset (both fixtures: fw4 attaching the pptp helper itself, and not).
// Enabled: two inside clients using the SAME Call-ID reach one server at
// once, each gets its own GRE back (the helper's Call-ID NAT), conntrack
// shows helper=pptp; the router's own PPTP gets the helper too. Disabled:
// neither TCP 1723 nor GRE leaves, over IPv4 or IPv6.

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { Passthrough } from './lib/passthrough.ts';
import { CALL_ID, newCalls, pptpServer, pptpSession, serverCalls, type Session } from './lib/pptp.ts';
import { assertReach, expectReach, reach, Sniffer } from './lib/probes.ts';
import type { Daemon } from './lib/proc.ts';
import { ADDR, FW4, Topology } from './lib/topology.ts';

const topo = Topology.create();
const vpn = new Passthrough(topo);
let sniffer: Sniffer;
let server: Daemon;

test.before(async () => {
  sniffer = await Sniffer.start(topo);
  server = await pptpServer(topo);
});
test.after(() => topo.destroy());

async function closeAll(sessions: Session[]): Promise<void> {
  await Promise.all(sessions.map((s) => s.close()));
}

for (const fw4 of FW4) {
  test(`[${fw4}] enabled: two clients with the same Call-ID at once, each gets its own GRE back, conntrack shows helper=pptp`, async () => {
    topo.loadFw4(fw4);
    vpn.mustApply({ pptp: { enabled: true } });
    const before = serverCalls(server).length;
    const sessions = await Promise.all([pptpSession(topo, 'c1'), pptpSession(topo, 'c2')]);

    try {
      for (const s of sessions) {
        assert.is(s.control.control, 'ok', `${s.client}: ${s.control.error}`);
        assert.is(s.control.echoed_call_id, CALL_ID, `${s.client}: the reply's Peer Call-ID is translated back`);
        assert.is(s.burst?.own, 3, `${s.client} got its own GRE replies: ${JSON.stringify(s.burst)}`);
        assert.equal(s.burst?.foreign, [], `${s.client} got nobody else's`);
      }
      const calls = await newCalls(server, before, 2);

      assert.is(calls.length, 2);
      assert.is.not(calls[0]!.peer_call_id, calls[1]!.peer_call_id, 'the server saw two different (translated) Call-IDs');

      const table = topo.conntrack();
      const control = table.filter((l) => / dport=1723 /.test(l));

      assert.is(control.length, 2, table.join('\n'));
      for (const l of control) assert.match(l, /helper=pptp/);
      assert.is(table.filter((l) => l.startsWith('gre ')).length, 2, table.join('\n'));
      assert.ok(vpn.status().protocols.pptp.passed.packets > 0, 'the pptp_pass counter counts');
    } finally {
      await closeAll(sessions);
    }
  });

  test(`[${fw4}] enabled: the helper expects GRE exactly for the Call-IDs of the calls it saw (conntrack -L expect)`, async () => {
    topo.flushConntrack();
    const before = serverCalls(server).length;
    const sessions = await Promise.all([pptpSession(topo, 'c1', 4, { gre: 0, waitS: 0.1 }), pptpSession(topo, 'c2', 4, { gre: 0, waitS: 0.1 })]);

    try {
      const calls = await newCalls(server, before, 2);
      const hex = (n: number) => `0x${n.toString(16)}`;
      const keys = (l: string) => {
        const m = /proto=47 src=(\S+) dst=(\S+) srckey=(\S+) dstkey=(\S+) .* master-src=(\S+)/.exec(l);

        return m ? `${m[5]}: ${m[1]} -> ${m[2]} ${m[3]}/${m[4]}` : l;
      };
      const expected = sessions.flatMap((s) => {
        const call = calls.find((c) => c.call_id === s.control.server_call_id)!;
        const inside = ADDR[s.client as 'c1' | 'c2'][4];

        return [
          `${inside}: ${inside} -> ${ADDR.server[4]} ${hex(CALL_ID)}/${hex(call.call_id)}`,
          `${inside}: ${ADDR.server[4]} -> ${ADDR.router.wan[4]} ${hex(call.call_id)}/${hex(call.peer_call_id)}`,
        ];
      });

      assert.equal(topo.expectations().map(keys).sort(), expected.sort());
    } finally {
      await closeAll(sessions);
    }
  });

  test(`[${fw4}] enabled: the router's own PPTP connection gets the helper too (fw4 never attaches it for output)`, async () => {
    topo.flushConntrack();
    const s = await pptpSession(topo, 'router');

    try {
      assert.is(s.control.control, 'ok', s.control.error);
      assert.is(s.burst?.own, 3, JSON.stringify(s.burst));
      assert.match(topo.conntrack().find((l) => / dport=1723 /.test(l)) ?? '', /helper=pptp/);
    } finally {
      await s.close();
    }
  });

  test(`[${fw4}] enabled: TCP 1723 and GRE pass over IPv4 and IPv6 from both clients`, async () => {
    for (const client of ['c1', 'c2'] as const) {
      topo.flushConntrack();
      assertReach(await reach(topo, sniffer, client, ['pptp']), expectReach(() => true, ['pptp']), client);
    }
  });

  test(`[${fw4}] disabled: no control connection, neither TCP 1723 nor GRE gets out (IPv4, IPv6), the others still pass`, async () => {
    topo.flushConntrack();
    vpn.mustApply({ pptp: { enabled: false } });
    const s = await pptpSession(topo, 'c1', 4, { waitS: 0.5, connectS: 0.5 });

    await s.close();
    assert.is(s.control.control, 'failed', JSON.stringify(s.control));
    for (const client of ['c1', 'c2'] as const) {
      topo.flushConntrack();
      assertReach(await reach(topo, sniffer, client), expectReach((p) => p !== 'pptp'), client);
    }
    assert.ok(vpn.status().protocols.pptp.dropped.packets > 0, 'the pptp_drop counter counts');
  });
}

test.run();
