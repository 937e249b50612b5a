// `vpn-passthrough probe` in the lab: from the router, against real servers
// outside (strongSwan as IKEv2 responder, xl2tpd as LNS, Debian's pptpd or,
// without it, the packet-level PPTP peer): each answers and its reply is
// read; a server behind a drop and one with nothing listening are reported
// as not answering, within the time limit; --host verdicts follow the
// settings, and real traffic from that host agrees with them; the raw-ESP
// warning names the other sender; a probe leaves no state in our table; and
// the CLI, ubus (the daemon keeps answering while a probe waits) and the
// LuCI page give the same answers.

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { ProtocolName } from '../../firmware/core/model.ts';
import type { ProbeReport } from '../../firmware/core/probe/report.ts';
import { nodePlatform } from '../../firmware/platform/node.ts';
import { connect, type UbusClient } from '../../firmware/ubus/client.ts';
import { UbusError } from '../../firmware/ubus/errors.ts';
import { COMMAND } from '../lib/cli.ts';
import { Broker } from '../lib/ubusd-broker.ts';
import { Luci, runView, VIEW } from '../luci/luci.ts';
import { Passthrough } from './lib/passthrough.ts';
import { pptpServer } from './lib/pptp.ts';
import { PPTPD, pptpdServer } from './lib/pptpd.ts';
import { assertReach, expectReach, reach, sendProbes, Sniffer, newTag } from './lib/probes.ts';
import { type Daemon } from './lib/proc.ts';
import { ipsecServer, startCharon } from './lib/strongswan.ts';
import { ADDR, Topology } from './lib/topology.ts';
import { l2tpServer } from './lib/xl2tpd.ts';

const topo = Topology.create();
const vpn = new Passthrough(topo);
const SERVER = ADDR.server[4];
/** `ip netns exec` mounts these over /etc/hosts and /etc/resolv.conf for the router. */
const ETC = `/etc/netns/${topo.ns.router}`;
let sniffer: Sniffer;
let servers: Daemon[] = [];
/** pptpd's reply, or the packet-level peer's when Debian's pptpd is not there. */
let pptpIdentity: { host_name: string; vendor: string };

function probe(args: string[]): { status: number; report: ProbeReport | null; stdout: string; stderr: string; ms: number } {
  const started = Date.now();
  const r = vpn.cli(['probe', ...args]);

  return { ...r, report: args.includes('--json') && r.stdout.startsWith('{') ? (JSON.parse(r.stdout) as ProbeReport) : null, ms: Date.now() - started };
}

const outcomes = (r: ProbeReport) => Object.fromEntries(Object.entries(r.protocols).map(([p, x]) => [p, x!.exchanges.map((e) => `${e.transport}/${e.port} ${e.outcome}`)]));

test.before(async () => {
  mkdirSync(ETC, { recursive: true });
  writeFileSync(join(ETC, 'hosts'), `127.0.0.1 localhost\n${SERVER} vpn.lab.test\n${ADDR.server[6]} vpn.lab.test\n`);
  // No name server: a name not in hosts fails at once instead of timing out.
  writeFileSync(join(ETC, 'resolv.conf'), 'nameserver 127.0.0.1\n');
  vpn.mustApply({});
  sniffer = await Sniffer.start(topo);
  const pptp = existsSync(PPTPD) ? pptpdServer(topo) : pptpServer(topo);

  pptpIdentity = existsSync(PPTPD) ? { host_name: 'local', vendor: 'linux' } : { host_name: 'vpt-server', vendor: 'vpt' };
  servers = [(await ipsecServer(topo)).daemon, await l2tpServer(topo), await pptp];
});
test.after(() => {
  rmSync(ETC, { recursive: true, force: true });
  topo.destroy();
});

test('strongSwan, xl2tpd and pptpd answer the router; each reply is read; exit 0', () => {
  const r = probe([SERVER, '--json']);
  const report = r.report!;

  assert.is(r.status, 0, r.stderr + r.stdout);
  assert.equal(outcomes(report), { pptp: ['tcp/1723 answered'], l2tp: ['udp/1701 answered'], ipsec: ['udp/500 answered', 'udp/4500 answered'] });
  assert.equal([report.server, report.address, report.family, report.answered], [SERVER, SERVER, 'ipv4', true]);

  const pptp = report.protocols.pptp!.exchanges[0]!.reply as unknown as Record<string, unknown>;

  assert.equal([pptp.message, pptp.result, pptp.result_text, pptp.host_name, pptp.vendor, pptp.protocol_version], ['Start-Control-Connection-Reply', 1, 'successful channel establishment', pptpIdentity.host_name, pptpIdentity.vendor, '1.0']);
  const l2tp = report.protocols.l2tp!.exchanges[0]!.reply as unknown as Record<string, unknown>;

  assert.equal([l2tp.message, l2tp.vendor, l2tp.protocol_version, typeof l2tp.assigned_tunnel], ['SCCRP', 'xelerance.com', '1.0', 'number']);
  for (const x of report.protocols.ipsec!.exchanges) {
    const ike = x.reply as unknown as Record<string, unknown>;

    // strongSwan here prefers MODP_3072: its refusal of our MODP_2048 is the answer.
    assert.equal([ike.exchange, ike.response, ike.error, ike.wants_group, x.attempts], ['IKE_SA_INIT', true, 'INVALID_KE_PAYLOAD', 'MODP_3072', 1], `${x.port}`);
    assert.ok(x.rtt_ms !== null && x.rtt_ms < 3000);
  }
  assert.is(report.protocols.ipsec!.nat_t, true);
  for (const p of ['pptp', 'l2tp', 'ipsec'] as const) assert.is(report.protocols[p]!.conclusion.code, 'server_answers');
});

test('the text says it at a glance', () => {
  const r = probe([SERVER]);

  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Asking 10\.0\.2\.2 from this router, 3 s at most:$/m);
  assert.match(r.stdout, /^PPTP   TCP 1723  answered in [\d.]+ ms: Start-Control-Connection-Reply, result 1 \(successful channel establishment\); server "/m);
  assert.match(r.stdout, /^L2TP   UDP 1701  answered in [\d.]+ ms: SCCRP: server "[^"]*", vendor "xelerance\.com"/m);
  assert.match(r.stdout, /^IPsec  UDP 500   answered in [\d.]+ ms: IKEv2 IKE_SA_INIT response: it wants DH group MODP_3072 \(a client then asks again with it: normal\)$/m);
  assert.match(r.stdout, /^       UDP 4500  answered in/m);
  assert.match(r.stdout, /^       NAT-T available: the server answers on UDP 4500$/m);
  assert.match(r.stdout, /^IPsec: The server answers IPsec\./m);
});

test('over IPv6, and by host name (getaddrinfo; every address listed)', () => {
  const v6 = probe([ADDR.server[6], '--protocol', 'ipsec', '--json']);

  assert.is(v6.status, 0, v6.stderr);
  assert.equal([v6.report!.family, outcomes(v6.report!)], ['ipv6', { ipsec: ['udp/500 answered', 'udp/4500 answered'] }]);

  const named = probe(['vpn.lab.test', '--protocol', 'l2tp', '--json']);

  assert.is(named.status, named.report!.address === SERVER ? 0 : 1, named.stderr);
  assert.equal([named.report!.server, [...named.report!.addresses].sort()], ['vpn.lab.test', [SERVER, ADDR.server[6]].sort()]);

  const unknown = probe(['no-such-server.invalid']);

  assert.is(unknown.status, 1);
  assert.match(unknown.stderr, /^vpn-passthrough probe: no-such-server\.invalid: the name does not resolve \(/);
});

test('bad arguments: exit 2 and a message naming the argument', () => {
  for (const [args, message] of [
    [[], /server: which VPN server\?/],
    [['vpn example'], /server: "vpn example" is not an IPv4\/IPv6 address or host name/],
    [[SERVER, '--protocol', 'sstp'], /protocol: "sstp" is not one of pptp, l2tp, ipsec/],
    [[SERVER, '--host', 'laptop'], /host: "laptop" is not an inside host's IPv4\/IPv6 address or MAC address/],
    [[SERVER, '--timeout', '0'], /timeout: "0" is not a number of seconds from 1 to 10/],
    [[SERVER, '--protocol'], /--protocol needs a value/],
    [[SERVER, '--hots', 'x'], /--hots: unknown option/],
  ] as [string[], RegExp][]) {
    const r = probe(args);

    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});

test('a server behind a drop: no answer, reported within the time limit; exit 1', () => {
  topo.exec('server', ['nft', '-f', '-'], `table inet probe_drop {\n\tchain input {\n\t\ttype filter hook input priority -10; policy accept;\n\t\tip saddr ${ADDR.router.wan[4]} drop\n\t}\n}\n`);
  try {
    const r = probe([SERVER, '--timeout', '2', '--json']);

    assert.is(r.status, 1);
    assert.equal(outcomes(r.report!), { pptp: ['tcp/1723 no_answer'], l2tp: ['udp/1701 no_answer'], ipsec: ['udp/500 no_answer', 'udp/4500 no_answer'] });
    assert.equal(r.report!.protocols.l2tp!.exchanges[0]!.attempts, 2, 'sent again after a second');
    assert.is(r.report!.protocols.ipsec!.nat_t, false);
    assert.is(r.report!.protocols.pptp!.conclusion.code, 'server_silent');
    // The protocols wait side by side: the whole command takes the limit, not three times it.
    assert.ok(r.ms < 2000 + 2500, `took ${r.ms} ms`);
    const text = probe([SERVER, '--timeout', '1', '--protocol', 'pptp']);

    assert.match(text.stdout, /^PPTP   TCP 1723  NO ANSWER within 1 s$/m);
    assert.match(text.stdout, /The server does not answer PPTP, not even to this router: the problem lies beyond this router/);
  } finally {
    topo.exec('server', ['nft', 'delete', 'table', 'inet', 'probe_drop']);
  }
});

const verdicts = (r: ProbeReport) => Object.fromEntries(Object.entries(r.protocols).map(([p, x]) => [p, `${x!.verdict!.passes} ${x!.verdict!.code} -> ${x!.conclusion.code}`]));

test('--host: the verdicts follow the settings, and real traffic from that host agrees', async () => {
  vpn.mustApply({ pptp: { enabled: false }, l2tp: { family: 'ipv6' }, ipsec: { hosts: [ADDR.c2[4]] } });

  const c1 = probe([SERVER, '--host', ADDR.c1[4], '--json']);

  assert.is(c1.status, 0, 'the server answers the router whatever the settings say about c1');
  assert.equal(verdicts(c1.report!), { pptp: 'false protocol_off -> router_blocks', l2tp: 'false family_blocked -> router_blocks', ipsec: 'false host_not_listed -> router_blocks' });
  assert.equal(c1.report!.protocols.pptp!.verdict!.field, 'vpn-passthrough.pptp.enabled');
  const c2 = probe([SERVER, '--host', ADDR.c2[4], '--protocol', 'ipsec', '--json']);

  assert.equal(verdicts(c2.report!), { ipsec: 'true host_listed -> works' });

  // What each client's packets actually do (IPv4, the server's family).
  const passes = (r: ProbeReport) => (p: ProtocolName) => r.protocols[p]?.verdict?.passes === true;

  topo.flushConntrack();
  assertReach(await reach(topo, sniffer, 'c1', ['pptp', 'l2tp', 'ipsec'], [4]), expectReach(passes(c1.report!), ['pptp', 'l2tp', 'ipsec'], [4]), 'c1');
  topo.flushConntrack();
  assertReach(await reach(topo, sniffer, 'c2', ['ipsec'], [4]), expectReach(passes(c2.report!), ['ipsec'], [4]), 'c2');

  const text = probe([SERVER, '--host', ADDR.c1[4], '--protocol', 'l2tp']);

  assert.match(text.stdout, /^What the settings do to 192\.168\.1\.20( \([0-9a-f:, ]+\))?:$/m);
  assert.match(text.stdout, /^L2TP   BLOCKED: L2TP is allowed over IPv6 only, and this server is an IPv4 address \[vpn-passthrough\.l2tp\.family='ipv6'\]$/m);
  assert.match(text.stdout, /^L2TP:  The server answers L2TP, but this router's settings block 192\.168\.1\.20:/m);
});

test('--host by MAC, or by address with a MAC in the host list: the router knows one from the other', async () => {
  const mac = /link\/ether (\S+)/.exec(topo.exec('c1', ['ip', 'link', 'show', 'eth0']).stdout)![1]!;

  vpn.mustApply({ ipsec: { hosts: [mac] }, l2tp: { hosts: [ADDR.c1[4]] } });
  topo.exec('c1', ['ping', '-c', '1', '-W', '1', ADDR.router.lan[4]]);
  const byAddress = probe([SERVER, '--host', ADDR.c1[4], '--protocol', 'ipsec', '--json']).report!;
  const byMac = probe([SERVER, '--host', mac.toUpperCase(), '--json']).report!;

  assert.equal(byAddress.host!.macs, [mac]);
  assert.equal(verdicts(byAddress), { ipsec: 'true host_listed -> works' });
  assert.equal([byMac.host!.given, byMac.host!.ipv4], [mac, [ADDR.c1[4]]]);
  assert.equal(verdicts(byMac), { pptp: 'true all_hosts -> works', l2tp: 'true host_listed -> works', ipsec: 'true host_listed -> works' });
});

test('--host: another inside host sending raw ESP to this server is named (our esp_senders set knows it)', async () => {
  vpn.mustApply({});
  topo.flushConntrack();
  await sendProbes(topo, 'c2', [{ kind: 'esp', dst: SERVER, tag: newTag('esp-c2') }]);
  const r = probe([SERVER, '--host', ADDR.c1[4], '--protocol', 'ipsec', '--json']).report!;

  assert.equal(r.warnings.map((w) => [w.code, w.value]), [['esp_in_use', SERVER]]);
  assert.match(r.warnings[0]!.message, /^192\.168\.1\.21 already sends raw ESP to 10\.0\.2\.2: if 192\.168\.1\.20 uses raw ESP too, only one of them can work through NAT/);
  assert.equal(probe([SERVER, '--host', ADDR.c2[4], '--protocol', 'ipsec', '--json']).report!.warnings, [], 'not about itself');
});

test('a probe leaves no state in our table (counters, sets) and no session', () => {
  vpn.mustApply({ l2tp: { family: 'ipv4' } });
  topo.flushConntrack();
  const table = () => topo.nft(['list', 'table', 'inet', 'vpn_passthrough']).stdout;
  const before = table();

  assert.is(probe([SERVER, '--host', ADDR.c1[4]]).status, 0);
  assert.is(probe([ADDR.server[6], '--protocol', 'ipsec']).status, 0);
  assert.is(table(), before);
  const sessions = JSON.parse(vpn.cli(['sessions', '--json']).stdout) as { sessions: unknown[] };

  assert.equal(sessions.sessions, [], 'the router\'s own probes are no passthrough sessions');
});

test('ubus `probe` is `probe --json`; the daemon answers other calls while a probe waits; LuCI shows the same', async () => {
  const socket = join(topo.dir, 'ubus.sock');
  const broker = new Broker(socket);

  await broker.start();
  const daemon = topo.daemon('router', 'vpn-passthrough', [...COMMAND, 'daemon', '--socket', socket, '--confdir', vpn.confdir, '--statedir', vpn.statedir]);
  let client: UbusClient | undefined;

  try {
    await broker.until(() => broker.object('vpn-passthrough'), 15_000, `the daemon's object (${daemon.text()})`);
    client = await connect({ connect: (path) => nodePlatform([]).connect(path), path: socket, timeout: 15_000 });
    const c = client;

    // Same answers, but for round trips and the tunnel ID xl2tpd picks each time.
    const stable = (r: unknown) => JSON.parse(JSON.stringify(r, (k, v: unknown) => (['rtt_ms', 'connect_ms', 'assigned_tunnel'].includes(k) ? undefined : v)));
    const viaUbus = await c.call('vpn-passthrough', 'probe', { server: SERVER, host: ADDR.c1[4] });
    const viaCli = probe([SERVER, '--host', ADDR.c1[4], '--json']).report;

    assert.equal(stable(viaUbus), stable(viaCli));

    // A probe that waits 3 s does not hold up status.
    topo.exec('server', ['nft', '-f', '-'], `table inet probe_drop {\n\tchain input {\n\t\ttype filter hook input priority -10; policy accept;\n\t\tip saddr ${ADDR.router.wan[4]} drop\n\t}\n}\n`);
    try {
      const started = Date.now();
      const waiting = c.call('vpn-passthrough', 'probe', { server: SERVER, protocol: 'l2tp', timeout: 3 }).then((r) => ({ r, at: Date.now() - started }));

      await new Promise((r) => setTimeout(r, 200));
      const status = await c.call('vpn-passthrough', 'status');
      const statusAt = Date.now() - started;
      const slow = await waiting;

      assert.ok((status as { applied: boolean }).applied);
      assert.ok(statusAt < 1500, `status answered after ${statusAt} ms`);
      assert.ok(slow.at >= 2900, `the probe waited its ${slow.at} ms`);
      assert.equal(outcomes(slow.r as unknown as ProbeReport), { l2tp: ['udp/1701 no_answer'] });
    } finally {
      topo.exec('server', ['nft', 'delete', 'table', 'inet', 'probe_drop']);
    }

    try {
      await c.call('vpn-passthrough', 'probe', { server: 'vpn example' });
      assert.unreachable('accepted');
    } catch (e) {
      assert.is((e as UbusError).code, 'INVALID_ARGUMENT');
      assert.match(String(((e as UbusError).data as { error: string }).error), /^server: "vpn example" is not an IPv4\/IPv6 address or host name$/);
    }

    // The page's "Test a VPN server" box, its calls going to this daemon.
    const luci = new Luci(async (object, method, args) => c.call(object, method, args as never).catch((e: UbusError) => e.status), [{ mac: 'aa:bb:cc:dd:ee:01', name: 'laptop', ipv4: ADDR.c1[4] }]);
    const { view } = await runView(readFileSync(VIEW, 'utf8'), luci);

    luci.phase = 'action';
    const shown = await (view.runProbe as (server: string, protocol: string, host: string) => Promise<unknown>).call(view, SERVER, '', ADDR.c1[4]);
    const text = (view.probeNode as unknown as { textContent: string }).textContent;

    assert.equal(stable(shown), stable(viaCli));
    for (const words of ['Start-Control-Connection-Reply', 'SCCRP', 'IKE_SA_INIT', 'NAT-T available', 'passes']) assert.ok(text.includes(words), `the page shows "${words}": ${text}`);
  } finally {
    client?.close();
    await daemon.stop();
    await broker.stop();
  }
});

test("a server that accepts the probe's offer: its proposal and NAT detection are read", async () => {
  await servers[0]!.stop();
  const strict = await startCharon(topo, 'server', `connections {\n  rw {\n    local_addrs = ${SERVER}\n    proposals = aes256-sha384-modp2048\n    local {\n      auth = psk\n    }\n    remote {\n      auth = psk\n    }\n  }\n}\n`);

  servers[0] = strict.daemon;
  const r = probe([SERVER, '--protocol', 'ipsec', '--json']);

  assert.is(r.status, 0, r.stderr);
  for (const x of r.report!.protocols.ipsec!.exchanges) {
    const ike = x.reply as unknown as Record<string, unknown>;

    assert.equal([ike.error, ike.proposal, ike.nat_detection], [undefined, ['AES_CBC_256', 'HMAC_SHA2_384_192', 'PRF_HMAC_SHA2_384', 'MODP_2048'], true], `${x.port}`);
    // No NAT between the router and the server; strongSwan with kernel-libipsec fakes one on its side.
    assert.equal(x.nat, { router_side: false, server_side: true });
  }
  assert.match(probe([SERVER, '--protocol', 'ipsec']).stdout, /^IPsec  UDP 500   answered in [\d.]+ ms: IKEv2 IKE_SA_INIT response: accepts AES_CBC_256\/HMAC_SHA2_384_192\/PRF_HMAC_SHA2_384\/MODP_2048; supports NAT detection; the server reports a NAT in front of it \(or forces UDP encapsulation\)$/m);
});

test('nothing listening: TCP refused, ICMP port unreachable, at once; exit 1', async () => {
  await Promise.all(servers.map((d) => d.stop()));
  const r = probe([SERVER, '--json']);

  assert.is(r.status, 1);
  assert.equal(outcomes(r.report!), { pptp: ['tcp/1723 refused'], l2tp: ['udp/1701 refused'], ipsec: ['udp/500 refused', 'udp/4500 refused'] });
  assert.ok(r.ms < 2500, `took ${r.ms} ms`);
  assert.match(probe([SERVER, '--protocol', 'l2tp']).stdout, /^L2TP   UDP 1701  REFUSED: nothing listens there \(ICMP port unreachable\)$/m);
});

test.run();
