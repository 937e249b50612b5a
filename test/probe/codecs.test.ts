// The probe's codecs three ways: real bytes from real peers (strongSwan,
// xl2tpd, pptpd, pptp-linux; test/fixtures/probe) decode to what those
// peers meant and encode back to the same bytes, our own messages round-trip
// and are what went on the wire, and PPTP's stream framing finds the same
// messages however TCP cuts them (one byte at a time, random chunks).

import { createHash } from 'node:crypto';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import * as ikeCodec from '../../firmware/core/probe/ike.ts';
import * as ikeInit from '../../firmware/core/probe/ike-init.ts';
import * as l2tp from '../../firmware/core/probe/l2tp.ts';
import * as pptp from '../../firmware/core/probe/pptp.ts';
import { sha1 } from '../../firmware/core/probe/sha1.ts';
import { concat, Malformed } from '../../firmware/core/probe/wire.ts';
import { rng } from '../lib/prng.ts';
import { hex, RECORDINGS, recorded, type Packet } from './recorded.ts';

const ike = { ...ikeCodec, ...ikeInit };
const all = RECORDINGS.flatMap(recorded);
const ikeOf = (p: Packet) => (p.sport === 4500 || p.dport === 4500 ? ike.withoutMarker(p.data)! : p.data);

// ---------------------------------------------------------------- SHA-1

test('sha1: the FIPS 180 examples and node:crypto on every length up to 300 bytes', () => {
  const enc = new TextEncoder();

  assert.is(hex(sha1(enc.encode('abc'))), 'a9993e364706816aba3e25717850c26c9cd0d89d');
  assert.is(hex(sha1(new Uint8Array(0))), 'da39a3ee5e6b4b0d3255bfef95601890afd80709');
  assert.is(hex(sha1(enc.encode('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))), '84983e441c3bd26ebaae4aa1f95129e5e54670f1');
  assert.is(hex(sha1(new Uint8Array(1_000_000).fill(0x61))), '34aa973cd4c4daa4f61eeb2bdbad27316534016f');
  const r = rng(7);

  for (let n = 0; n <= 300; n++) {
    const data = Uint8Array.from({ length: n }, () => r.int(0, 255));

    assert.is(hex(sha1(data)), createHash('sha1').update(data).digest('hex'), `length ${n}`);
  }
});

// ---------------------------------------------------------------- IKE

const ikePackets = all.filter((p) => p.proto === 'udp' && (p.dport === 500 || p.sport === 500 || p.dport === 4500 || p.sport === 4500));

test('ike: every recorded message (IKE_SA_INIT both ways, IKE_AUTH and INFORMATIONAL encrypted) decodes and encodes back to its bytes', () => {
  assert.is(ikePackets.length, 18, 'the recordings hold 18 IKE messages');
  for (const p of ikePackets) {
    const bytes = ikeOf(p);

    assert.is(hex(ike.encodeIke(ike.decodeIke(bytes))), hex(bytes), p.where);
  }
});

test('ike: strongSwan the initiator, IKE_SA_INIT as it sent it (proposals, KE, nonce, NAT detection)', () => {
  const [request, response] = recorded('client-strongswan').map(ikeOf);
  const m = ike.decodeIke(request!);
  const kinds = m.payloads.map((p) => (p.kind === 'notify' ? ike.notifyName(p.type) : p.kind));

  assert.equal([m.major, m.minor, ike.EXCHANGES[m.exchange], m.flags, m.messageId], [2, 0, 'IKE_SA_INIT', ike.FLAG_INITIATOR, 0]);
  assert.equal(kinds.slice(0, 5), ['sa', 'ke', 'nonce', 'NAT_DETECTION_SOURCE_IP', 'NAT_DETECTION_DESTINATION_IP']);
  const sa = m.payloads[0]!;

  assert.ok(sa.kind === 'sa' && sa.proposals[0]!.transforms.some((t) => t.type === ike.ENCR && t.id === 12 && t.attributes[0]?.value === 128), 'AES_CBC_128 offered');
  // strongSwan hashed where it sends to as we do. (Its source hash is random:
  // with kernel-libipsec it fakes NAT detection to force UDP encapsulation.)
  const natD = m.payloads.find((p) => p.kind === 'notify' && p.type === ike.N_NAT_DESTINATION);

  assert.ok(natD?.kind === 'notify');
  assert.is(hex(natD.data), hex(ike.natDetectionHash(m.spiI, m.spiR, { address: '10.0.2.2', port: 500 })));

  // The responder saw c1 masqueraded: its hash of where we came from is not c1's.
  const reply = ike.decodeIke(response!);

  assert.equal(ike.natDetection(reply, { address: '192.168.1.20', port: 500 }, { address: '10.0.2.2', port: 500 }), { router_side: true, server_side: true });
  assert.equal(ike.describeIke(reply).proposal, ['AES_CBC_128', 'HMAC_SHA2_256_128', 'PRF_HMAC_SHA2_256', 'MODP_3072']);
});

test("ike: strongSwan's answer to the probe: INVALID_KE_PAYLOAD (it wants MODP_3072), on 500 and 4500", () => {
  for (const p of recorded('probe-strongswan').filter((x) => x.dir === 'S>C')) {
    const reply = ike.describeIke(ike.decodeIke(ikeOf(p)));

    assert.equal([reply.response, reply.error, reply.wants_group, reply.proposal], [true, 'INVALID_KE_PAYLOAD', 'MODP_3072', undefined], p.where);
  }
});

test("ike: a full IKE_SA_INIT response to the probe: the proposal chosen, NAT detection hashes checked against the addresses", () => {
  const packets = recorded('probe-strongswan-modp2048');

  for (const port of [500, 4500]) {
    const request = packets.find((p) => p.dir === 'C>S' && p.dport === port)!;
    const reply = ike.decodeIke(ikeOf(packets.find((p) => p.dir === 'S>C' && p.sport === port)!));

    assert.equal(ike.describeIke(reply), { version: '2.0', exchange: 'IKE_SA_INIT', response: true, notifies: ike.describeIke(reply).notifies, proposal: ['AES_CBC_128', 'HMAC_SHA2_256_128', 'PRF_HMAC_SHA2_256', 'MODP_2048'], nat_detection: true, fragmentation: true, vendor_ids: [] });
    assert.ok(ike.describeIke(reply).notifies.includes('NAT_DETECTION_DESTINATION_IP'));
    // From the router itself (10.0.2.15) no NAT is on the way: the server's
    // hash of where we came from is ours. (strongSwan with kernel-libipsec
    // fakes its own source hash to force UDP encapsulation.)
    assert.equal(ike.natDetection(reply, { address: request.src, port: request.sport }, { address: request.dst, port }), { router_side: false, server_side: true });
    assert.equal(ike.natDetection(reply, { address: request.src, port: request.sport + 1 }, { address: request.dst, port })?.router_side, true, 'another port: a NAT');
  }
});

test('ike: NO_PROPOSAL_CHOSEN from a server that accepts nothing the probe offers, on 500 and 4500', () => {
  const replies = recorded('probe-strongswan-no-proposal').filter((p) => p.dir === 'S>C');

  assert.is(replies.length, 2);
  for (const p of replies) assert.equal(ike.describeIke(ike.decodeIke(ikeOf(p))), { version: '2.0', exchange: 'IKE_SA_INIT', response: true, notifies: ['NO_PROPOSAL_CHOSEN'], error: 'NO_PROPOSAL_CHOSEN', nat_detection: false, fragmentation: false, vendor_ids: [] });
});

test("ike: the probe's request is ikeSaInit's, as it went on the wire", () => {
  const p = recorded('probe-strongswan-modp2048')[0]!;
  const m = ike.decodeIke(p.data);
  const payload = (kind: string) => m.payloads.find((x) => x.kind === kind) as { data: Uint8Array; group?: number };
  const nat = m.payloads.filter((x) => x.kind === 'notify') as { data: Uint8Array }[];
  const again = ike.ikeSaInit({ spi: m.spiI, nonce: payload('nonce').data, group: payload('ke').group!, ke: payload('ke').data, natSource: nat[0]!.data, natDestination: nat[1]!.data });

  assert.is(hex(ike.encodeIke(again)), hex(p.data));
  assert.is(hex(nat[0]!.data), hex(ike.natDetectionHash(m.spiI, new Uint8Array(8), { address: p.src, port: p.sport })));
  assert.is(hex(nat[1]!.data), hex(ike.natDetectionHash(m.spiI, new Uint8Array(8), { address: p.dst, port: p.dport })));
});

test('ike: the non-ESP marker; keepalives and ESP on 4500 are not IKE', () => {
  const m = ike.encodeIke(ike.ikeSaInit({ spi: new Uint8Array(8).fill(1), nonce: new Uint8Array(32), group: 31, ke: new Uint8Array(32), natSource: new Uint8Array(20), natDestination: new Uint8Array(20) }));

  assert.is(hex(ike.withoutMarker(ike.withMarker(m))!), hex(m));
  assert.is(ike.withoutMarker(Uint8Array.of(0xff)), null);
  assert.is(ike.withoutMarker(Uint8Array.of(0, 0, 0x10, 1, 0, 0, 0, 1)), null);
});

test('ike: keData makes values only for groups where any bytes below the prime will do', () => {
  const random = new Uint8Array(1024).fill(0xff);

  assert.is(ike.keData(14, random)!.length, 256);
  assert.is(ike.keData(14, random)![0], 0x7f);
  assert.is(ike.keData(31, random)!.length, 32);
  assert.is(ike.keData(19, random), null, 'ECP_256 needs a point on the curve');
});

const malformedIke: [string, Uint8Array][] = [
  ['too short for a header', new Uint8Array(27)],
  ['length field disagrees', concat([ike.encodeIke(ike.decodeIke(ikeOf(recorded('probe-strongswan')[1]!))), Uint8Array.of(0)])],
  ['major version 3', (() => { const b = ike.encodeIke(ike.decodeIke(ikeOf(recorded('probe-strongswan')[1]!))); b[17] = 0x30; return b; })()],
  ['payload overruns the message', (() => { const b = ikeOf(recorded('probe-strongswan')[1]!).slice(); b[28 + 3] = 0xff; return b; })()],
];

for (const [what, bytes] of malformedIke) {
  test(`ike: malformed (${what}) is refused as Malformed`, () => {
    assert.throws(() => ike.decodeIke(bytes), (e: unknown) => e instanceof Malformed);
  });
}

// ---------------------------------------------------------------- L2TP

const l2tpPackets = all.filter((p) => p.proto === 'udp' && (p.dport === 1701 || p.sport === 1701));

test('l2tp: every recorded control message (xl2tpd LAC and LNS, the probe) decodes and encodes back to its bytes', () => {
  assert.ok(l2tpPackets.length >= 12, `${l2tpPackets.length} messages`);
  for (const p of l2tpPackets) assert.is(hex(l2tp.encodeControl(l2tp.decodeControl(p.data))), hex(p.data), p.where);
});

test("l2tp: xl2tpd's SCCRP, our StopCCN and its ZLB, as the probe saw them", () => {
  const [request, reply, stop, zlb] = recorded('probe-xl2tpd');
  const sccrq = l2tp.decodeControl(request!.data);
  const tunnel = sccrq.avps.find((a) => a.type === l2tp.AVP.assignedTunnel)!.value;
  const ours = (tunnel[0]! << 8) | tunnel[1]!;
  const m = l2tp.decodeControl(reply!.data);

  assert.is(hex(l2tp.sccrq({ tunnel: ours, hostName: 'vpn-passthrough', vendor: 'vpn-passthrough probe' })), hex(request!.data), 'our SCCRQ is what went out');
  assert.is(m.tunnel, ours, 'the SCCRP is addressed to our tunnel');
  assert.equal(l2tp.describeReply(m), { message: 'SCCRP', protocol_version: '1.0', firmware: 0x0690, host_name: 'vm', vendor: 'xelerance.com', assigned_tunnel: l2tp.describeReply(m).assigned_tunnel });
  assert.is(hex(l2tp.stopCcn({ peerTunnel: l2tp.describeReply(m).assigned_tunnel!, tunnel: ours, ns: 1, nr: 1 })), hex(stop!.data), 'our StopCCN is what went out');
  assert.is(l2tp.messageType(l2tp.decodeControl(zlb!.data)), null, 'a ZLB acknowledgement');
});

test("l2tp: a real LAC's tunnel and call, and the LNS's CDN with its result code", () => {
  const packets = recorded('client-xl2tpd').map((p) => l2tp.decodeControl(p.data));
  const types = packets.map((m) => { const t = l2tp.messageType(m); return t === null ? 'ZLB' : l2tp.L2TP_MESSAGES[t]; });

  assert.equal(types.slice(0, 3), ['SCCRQ', 'SCCRP', 'SCCCN']);
  assert.ok(types.includes('ICRQ') && types.includes('ICCN') && types.includes('ZLB'), types.join(' '));
  const cdn = packets.find((m) => l2tp.messageType(m) === 14)!;

  assert.equal(l2tp.describeReply(cdn), { message: 'CDN', result: { code: 1, error: 0, text: '' } });
});

for (const [what, bytes] of [
  ['a data message (T bit clear)', Uint8Array.of(0x40, 0x02, 0, 12, 0, 1, 0, 1, 0, 0, 0, 0)],
  ['version 3 (L2TPv3)', Uint8Array.of(0xc8, 0x03, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0)],
  ['length field disagrees', Uint8Array.of(0xc8, 0x02, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0)],
  ['AVP overruns the message', Uint8Array.of(0xc8, 0x02, 0, 18, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x20, 0, 0, 0, 0)],
  ['first AVP is not Message Type', l2tp.encodeControl({ tunnel: 1, session: 0, ns: 0, nr: 0, avps: [{ mandatory: true, hidden: false, vendor: 0, type: 7, value: new Uint8Array(2) }] })],
] as [string, Uint8Array][]) {
  test(`l2tp: malformed (${what}) is refused as Malformed`, () => {
    assert.throws(() => l2tp.messageType(l2tp.decodeControl(bytes)), (e: unknown) => e instanceof Malformed);
  });
}

// ---------------------------------------------------------------- PPTP

const streams = (name: string, dir: Packet['dir']) => concat(recorded(name).filter((p) => p.dir === dir && p.proto === 'tcp').map((p) => p.data));

function frames(chunks: Uint8Array[]): pptp.ControlMessage[] {
  const framer = new pptp.PptpFramer();
  const out: pptp.ControlMessage[] = [];

  for (const c of chunks) {
    framer.push(c);
    for (let m = framer.next(); m; m = framer.next()) out.push(m);
  }

  return out;
}

test('pptp: every recorded control message (pptpd, pptp-linux, the probe) decodes and encodes back to its bytes', () => {
  const segments = all.filter((p) => p.proto === 'tcp');

  assert.ok(segments.length >= 9);
  for (const p of segments) {
    for (const m of frames([p.data])) assert.is(hex(pptp.encodeControl(m)), hex(p.data).slice(0, pptp.encodeControl(m).length * 2), p.where);
  }
});

test("pptp: pptpd's Start-Control-Connection-Reply; the probe's request and goodbye are what went out", () => {
  const [request, reply, stop, stopReply] = recorded('probe-pptpd');
  const sccrp = pptp.decodeStartControl(pptp.decodeControl(reply!.data));

  assert.is(hex(pptp.sccrq('vpn-passthrough', 'vpn-passthrough probe')), hex(request!.data));
  assert.equal(sccrp, { version: 0x0100, result: 1, error: 0, framing: 0, bearer: 0, maxChannels: 1, firmware: 1, hostName: 'local', vendor: 'linux' });
  assert.is(hex(pptp.encodeStartControl(pptp.SCCRP, sccrp)), hex(reply!.data));
  assert.is(hex(pptp.stopCcrq()), hex(stop!.data));
  assert.is(pptp.decodeControl(stopReply!.data).type, pptp.STOP_CCRP);
});

test("pptp: pptp-linux's opening, decoded field by field", () => {
  const m = frames([streams('client-pptp-linux', 'C>S')]);

  assert.equal(m.map((x) => pptp.PPTP_MESSAGES[x.type]), ['Start-Control-Connection-Request', 'Outgoing-Call-Request', 'Call-Clear-Request']);
  const sccrq = pptp.decodeStartControl(m[0]!);

  assert.equal([sccrq.version, sccrq.framing, sccrq.bearer, sccrq.maxChannels, sccrq.hostName], [0x0100, 3, 3, 0xffff, 'local']);
  assert.is(hex(pptp.encodeStartControl(pptp.SCCRQ, sccrq)), hex(pptp.encodeControl(m[0]!)));
});

for (const name of ['probe-pptpd', 'client-pptp-linux']) {
  for (const dir of ['C>S', 'S>C'] as const) {
    const stream = streams(name, dir);
    const whole = frames([stream]).map(pptp.encodeControl).map(hex);

    test(`pptp: ${name} ${dir} framed the same all at once, one byte at a time and in random chunks`, () => {
      assert.is(whole.join(''), hex(stream), 'the messages fill the stream exactly');
      assert.equal(frames(Array.from(stream, (b) => Uint8Array.of(b))).map(pptp.encodeControl).map(hex), whole);
      const r = rng(stream.length);

      for (let round = 0; round < 20; round++) {
        const chunks: Uint8Array[] = [];

        for (let at = 0; at < stream.length; ) {
          const n = r.int(1, 40);

          chunks.push(stream.subarray(at, at + n));
          at += n;
        }
        assert.equal(frames(chunks).map(pptp.encodeControl).map(hex), whole, `round ${round}`);
      }
    });
  }
}

test('pptp: a message cut short is "need more bytes", not an error', () => {
  const framer = new pptp.PptpFramer();

  framer.push(pptp.sccrq('a', 'b').subarray(0, 100));
  assert.is(framer.next(), null);
});

for (const [what, bytes] of [
  ['an HTTP server on port 1723', new TextEncoder().encode('HTTP/1.1 400 Bad Request\r\n\r\n')],
  ['a wrong magic cookie', Uint8Array.of(0, 16, 0, 1, 0x1a, 0x2b, 0x3c, 0x4e, 0, 4, 0, 0, 1, 0, 0, 0)],
  ['a length below the header', Uint8Array.of(0, 8, 0, 1, 0x1a, 0x2b, 0x3c, 0x4d, 0, 4, 0, 0)],
] as [string, Uint8Array][]) {
  test(`pptp: ${what} is Malformed`, () => {
    const framer = new pptp.PptpFramer();

    framer.push(bytes);
    assert.throws(() => framer.next(), (e: unknown) => e instanceof Malformed);
  });
}

test('pptp: a Start-Control-Connection message of the wrong size is Malformed', () => {
  assert.throws(() => pptp.decodeStartControl({ type: pptp.SCCRP, body: new Uint8Array(100) }), (e: unknown) => e instanceof Malformed);
});

test.run();
