// The probe's exchanges over real sockets (the Node adapter, loopback),
// against servers that answer with the bytes real servers sent
// (test/fixtures/probe), adjusted to the request as the real server would
// (our SPI, our tunnel ID): retransmits, a lost first datagram, answers for
// someone else, keepalives, garbage, silence, a closed port, TCP cutting a
// reply into single bytes, and the goodbye each protocol sends after.

import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { withMarker, withoutMarker } from '../../firmware/core/probe/ike.ts';
import { AVP, decodeControl, messageType, STOP_CCN } from '../../firmware/core/probe/l2tp.ts';
import { STOP_CCRP, STOP_CCRQ } from '../../firmware/core/probe/pptp.ts';
import { probeIpsec, probeL2tp, probePptp } from '../../firmware/engine/exchange.ts';
import { nodePlatform } from '../../firmware/platform/node.ts';
import { recorded } from './recorded.ts';

const platform = nodePlatform([]);
const LOCAL = '127.0.0.1';

const serverSays = (name: string) => recorded(name).filter((p) => p.dir === 'S>C').map((p) => p.data);

/** A UDP server on an ephemeral port; answer() returns the datagrams to send back. */
async function udpServer(answer: (datagram: Uint8Array, n: number) => Uint8Array[]): Promise<{ port: number; got: Uint8Array[]; close(): void }> {
  const socket: UdpSocket = createSocket('udp4');
  const got: Uint8Array[] = [];

  socket.on('message', (data, from) => {
    got.push(new Uint8Array(data));
    for (const reply of answer(new Uint8Array(data), got.length)) socket.send(reply, from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, LOCAL, resolve));

  return { port: socket.address().port, got, close: () => socket.close() };
}

/** A port nobody listens on (bound, then freed). */
async function closedPort(): Promise<number> {
  const s = await udpServer(() => []);

  s.close();

  return s.port;
}

// ---------------------------------------------------------------- L2TP

const SCCRP = serverSays('probe-xl2tpd')[0]!;
/** The tunnel ID xl2tpd assigned in that SCCRP. */
const SERVER_TUNNEL = (() => { const v = decodeControl(SCCRP).avps.find((a) => a.type === AVP.assignedTunnel)!.value; return (v[0]! << 8) | v[1]!; })();

/** xl2tpd's SCCRP, addressed to the tunnel the SCCRQ assigned. */
function sccrpFor(sccrq: Uint8Array): Uint8Array {
  const tunnel = decodeControl(sccrq).avps.find((a) => a.type === AVP.assignedTunnel)!.value;
  const reply = SCCRP.slice();

  reply.set(tunnel, 4);

  return reply;
}

test('l2tp: SCCRP parsed, then a StopCCN to the tunnel the server assigned', async () => {
  const server = await udpServer((d) => (messageType(decodeControl(d)) === 1 ? [sccrpFor(d)] : []));
  const x = await probeL2tp(platform, LOCAL, 2000, server.port);

  await new Promise((r) => setTimeout(r, 50));
  server.close();
  assert.equal([x.outcome, x.answered, x.attempts], ['answered', true, 1]);
  assert.ok(x.rtt_ms! >= 0 && x.rtt_ms! < 1000, String(x.rtt_ms));
  assert.equal(x.reply, { message: 'SCCRP', protocol_version: '1.0', firmware: 0x0690, host_name: 'vm', vendor: 'xelerance.com', assigned_tunnel: SERVER_TUNNEL });
  const stop = decodeControl(server.got[1]!);

  assert.equal([messageType(stop), stop.tunnel, stop.ns, stop.nr], [STOP_CCN, SERVER_TUNNEL, 1, 1]);
});

test('l2tp: a lost first SCCRQ is sent again after a second, as a LAC does', async () => {
  const server = await udpServer((d, n) => (n === 1 ? [] : messageType(decodeControl(d)) === 1 ? [sccrpFor(d)] : []));
  const x = await probeL2tp(platform, LOCAL, 3000, server.port);

  server.close();
  assert.equal([x.outcome, x.attempts], ['answered', 2]);
  assert.ok(x.rtt_ms! >= 900, `the answer came after the retransmit: ${x.rtt_ms} ms`);
});

test('l2tp: an SCCRP for another tunnel and garbage are not answers; at the time limit it is "malformed"', async () => {
  const server = await udpServer(() => [SCCRP, new TextEncoder().encode('SSH-2.0-OpenSSH_9.2\r\n')]);
  const started = performance.now();
  const x = await probeL2tp(platform, LOCAL, 1000, server.port);

  server.close();
  assert.equal([x.outcome, x.answered], ['malformed', false]);
  assert.match(x.error!, /something other than the protocol answered/);
  assert.ok(performance.now() - started >= 990, 'it waited the whole time');
});

test('l2tp: silence is "no_answer" at the time limit, with one retransmit per second', async () => {
  const server = await udpServer(() => []);
  const started = performance.now();
  const x = await probeL2tp(platform, LOCAL, 2500, server.port);
  const took = performance.now() - started;

  server.close();
  assert.equal([x.outcome, x.answered, x.rtt_ms, x.attempts], ['no_answer', false, null, 3]);
  assert.ok(took >= 2490 && took < 4000, `${took} ms`);
  assert.is(server.got.length, 3);
});

test('l2tp: a closed port is "refused" at once (ICMP port unreachable)', async () => {
  const started = performance.now();
  const x = await probeL2tp(platform, LOCAL, 3000, await closedPort());

  assert.equal([x.outcome, x.answered], ['refused', false]);
  assert.ok(performance.now() - started < 1000);
});

// ---------------------------------------------------------------- IKE

/** strongSwan's replies on port 500 to the probe: INVALID_KE_PAYLOAD, and
 * (from one accepting MODP_2048) a full response. */
const INVALID_KE = recorded('probe-strongswan').find((p) => p.dir === 'S>C' && p.sport === 500)!.data;
const ACCEPTED = recorded('probe-strongswan-modp2048').find((p) => p.dir === 'S>C' && p.sport === 500)!.data;
const NO_PROPOSAL = recorded('probe-strongswan-no-proposal').find((p) => p.dir === 'S>C' && p.sport === 500)!.data;

/** A recorded reply for this request: the request's SPI in it. */
function replyFor(request: Uint8Array, reply: Uint8Array): Uint8Array {
  const out = reply.slice();

  out.set(request.subarray(0, 8), 0);

  return out;
}

/** Answers a request with a recorded reply (the marker on the NAT-T socket), after some noise. */
function ikeServer(reply: Uint8Array, natT: boolean, noise: Uint8Array[] = []) {
  return (datagram: Uint8Array) => {
    const request = natT ? withoutMarker(datagram)! : datagram;
    const answer = replyFor(request, reply);

    return [...noise, natT ? withMarker(answer) : answer];
  };
}

test('ipsec: the answer for our SPI is read on both ports; keepalives, ESP and other SPIs are not answers; nothing is asked twice', async () => {
  const other = replyFor(Uint8Array.of(9, 9, 9, 9, 9, 9, 9, 9), INVALID_KE);
  const ike = await udpServer(ikeServer(INVALID_KE, false, [other]));
  const natT = await udpServer(ikeServer(ACCEPTED, true, [Uint8Array.of(0xff), withMarker(other), Uint8Array.of(0, 0, 0x10, 1, 0, 0, 0, 1)]));
  const [a, b] = await probeIpsec(platform, LOCAL, 2000, { ike: ike.port, natT: natT.port });

  await new Promise((r) => setTimeout(r, 50));
  ike.close();
  natT.close();
  assert.equal([a!.outcome, a!.attempts, (a!.reply as { error: string; wants_group: string }).wants_group], ['answered', 1, 'MODP_3072']);
  assert.equal([b!.outcome, b!.attempts, (b!.reply as { proposal: string[] }).proposal], ['answered', 1, ['AES_CBC_128', 'HMAC_SHA2_256_128', 'PRF_HMAC_SHA2_256', 'MODP_2048']]);
  // The recorded hashes were made for the lab's addresses, not these.
  assert.equal(b!.nat, { router_side: true, server_side: true });
  assert.equal([ike.got.length, natT.got.length], [1, 1], 'one IKE_SA_INIT each: a refusal is not followed up');
  assert.equal([...natT.got[0]!.subarray(0, 4)], [0, 0, 0, 0], 'the non-ESP marker on 4500');
  assert.not.equal([...ike.got[0]!.subarray(0, 4)], [0, 0, 0, 0], 'none on 500');
});

test('ipsec: NO_PROPOSAL_CHOSEN is an answer: the server is there', async () => {
  const ike = await udpServer((d) => [replyFor(d, NO_PROPOSAL)]);
  const natT = await udpServer(() => []);
  const [a, b] = await probeIpsec(platform, LOCAL, 1000, { ike: ike.port, natT: natT.port });

  ike.close();
  natT.close();
  assert.equal([a!.outcome, (a!.reply as { error: string }).error], ['answered', 'NO_PROPOSAL_CHOSEN']);
  assert.equal([b!.outcome, b!.answered], ['no_answer', false]);
});

// ---------------------------------------------------------------- PPTP

const PPTP = serverSays('probe-pptpd');

async function tcpServer(serve: (socket: Socket, got: Uint8Array[]) => void): Promise<{ port: number; got: Uint8Array[]; close(): Promise<void> }> {
  const got: Uint8Array[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (d) => got.push(new Uint8Array(d)));
    socket.on('error', () => undefined);
    serve(socket, got);
  });

  await new Promise<void>((resolve) => server.listen(0, LOCAL, resolve));

  return {
    port: (server.address() as { port: number }).port,
    got,
    close: () => {
      for (const s of sockets) s.destroy();

      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

test("pptp: pptpd's reply, cut into single bytes by TCP, parsed; then Stop-Control-Connection Request and Reply", async () => {
  const server = await tcpServer((socket, got) => {
    socket.setNoDelay(true);
    socket.on('data', async () => {
      const all = Buffer.concat(got);

      if (all.length === 156) for (const b of PPTP[0]!) await new Promise<void>((r) => socket.write(Uint8Array.of(b), () => setTimeout(r, 1)));
      if (all.length === 172 && all.readUInt16BE(8) === STOP_CCRQ) socket.end(PPTP[1]!);
    });
  });
  const x = await probePptp(platform, LOCAL, 3000, server.port);
  const got = Buffer.concat(server.got);

  await server.close();
  assert.equal([x.outcome, x.answered, x.attempts], ['answered', true, 1]);
  assert.ok(x.connect_ms! >= 0 && x.rtt_ms! > 0);
  assert.equal(x.reply, { message: 'Start-Control-Connection-Reply', result: 1, result_text: 'successful channel establishment', error: 0, error_text: 'none', protocol_version: '1.0', host_name: 'local', vendor: 'linux', firmware: 1, max_channels: 1 });
  assert.equal([got.length, got.readUInt16BE(156 + 8)], [172, STOP_CCRQ], 'the goodbye went out');
  assert.is(PPTP[1]!.length > 9 && new DataView(PPTP[1]!.buffer).getUint16(8), STOP_CCRP);
});

const pptpCases: [string, (socket: Socket) => void, string, RegExp][] = [
  ['a server that closes at once', (s) => s.end(), 'closed', /closed the connection without a reply/],
  ['an HTTP server', (s) => s.once('data', () => s.write('HTTP/1.1 400 Bad Request\r\n\r\n')), 'malformed', /not a PPTP server/],
  ['a silent server', () => undefined, 'no_answer', /connected, but no reply within 1 s/],
  ['a PPTP server that sends Stop-Control-Connection-Request', (s) => s.once('data', () => s.write(Uint8Array.of(0, 16, 0, 1, 0x1a, 0x2b, 0x3c, 0x4d, 0, 3, 0, 0, 2, 0, 0, 0))), 'unexpected', /Stop-Control-Connection-Request instead of a Start-Control-Connection-Reply/],
];

for (const [what, serve, outcome, error] of pptpCases) {
  test(`pptp: ${what} is "${outcome}"`, async () => {
    const server = await tcpServer(serve);
    const x = await probePptp(platform, LOCAL, 1000, server.port);

    await server.close();
    assert.equal([x.outcome, x.answered], [outcome, false]);
    assert.match(x.error!, error);
  });
}

test('pptp: a closed port is "refused"', async () => {
  const server = await tcpServer(() => undefined);
  const port = server.port;

  await server.close();
  const x = await probePptp(platform, LOCAL, 1000, port);

  assert.equal([x.outcome, x.answered, x.connect_ms], ['refused', false, undefined]);
});

test('lookup: a name resolves through the system resolver', async () => {
  assert.ok((await platform.lookup('localhost')).some((a) => a === '127.0.0.1' || a === '::1'));
  await platform.lookup('no-such-host.invalid').then(
    () => assert.unreachable('resolved'),
    (e: { code?: string }) => assert.ok(e.code, 'a resolver code'),
  );
});

test.run();
