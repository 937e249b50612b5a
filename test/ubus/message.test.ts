// The message codec against every recorded message: decoding agrees with
// the fixture's own decoding (*.decoded.txt), re-encoding gives the recorded
// bytes back, and FrameReader finds the same messages however the stream is
// cut (one byte at a time, all at once, random chunks).

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { concat } from '../../firmware/ubus/blob.ts';
import { MalformedError } from '../../firmware/ubus/errors.ts';
import { decodeMessage, encodeMessage, frameLength, FrameReader, MSG, MSG_NAMES, type Message } from '../../firmware/ubus/message.ts';
import { toTable } from '../../firmware/ubus/value.ts';
import { rng } from '../lib/prng.ts';
import { allConns, loadConn, readFixture } from '../lib/ubus-transcript.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const hex8 = (n: number) => n.toString(16).padStart(8, '0');

/** Our decoding in the shape of the fixture's *.decoded.txt lines. */
function asFixtureJson(m: Message): unknown {
  const attrs: Record<string, unknown> = {};

  for (const [key, value] of Object.entries(m.attrs)) {
    const name = key === 'noReply' ? 'NO_REPLY' : key.toUpperCase();

    if (key === 'data' || key === 'signature') attrs[name] = toTable(value);
    else if (key === 'subscribers') attrs[name] = (value as number[]).map(hex8);
    else attrs[name] = value;
  }

  return { version: 0, type: MSG_NAMES[m.type], seq: m.seq, peer: hex8(m.peer), attrs };
}

for (const conn of allConns()) {
  test(`${conn}: every message decodes as the fixture says and re-encodes to the same bytes`, () => {
    const lines = loadConn(conn);
    const expected = readFixture(`${conn}.decoded.txt`)
      .split('\n')
      .filter((l) => /^(S>C|C>S) /.test(l))
      .map((l) => l.slice(4));

    assert.is(lines.length, expected.length);
    lines.forEach((line, i) => {
      assert.is(frameLength(line.bytes), line.bytes.length, `frame length of message ${i}`);
      const msg = decodeMessage(line.bytes);

      assert.is(JSON.stringify(asFixtureJson(msg)), JSON.stringify(JSON.parse(expected[i]!)), `message ${i}`);
      assert.is(hex(encodeMessage(msg)), hex(line.bytes), `re-encoding message ${i}`);
    });
  });
}

const stream = concat(allConns().flatMap((c) => loadConn(c).map((l) => l.bytes)));
const messages = allConns().flatMap((c) => loadConn(c).map((l) => hex(l.bytes)));

function drain(reader: FrameReader, out: string[]): void {
  for (let f = reader.next(); f; f = reader.next()) out.push(hex(f));
}

test('FrameReader: one byte at a time', () => {
  const reader = new FrameReader();
  const out: string[] = [];

  for (let i = 0; i < stream.length; i++) {
    reader.push(stream.subarray(i, i + 1));
    drain(reader, out);
  }
  assert.equal(out, messages);
  assert.is(reader.buffered, 0);
});

test('FrameReader: every message in one chunk', () => {
  const reader = new FrameReader();
  const out: string[] = [];

  reader.push(stream);
  drain(reader, out);
  assert.equal(out, messages);
});

test('FrameReader: random chunk sizes (seeded)', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const r = rng(seed);
    const reader = new FrameReader();
    const out: string[] = [];

    for (let at = 0; at < stream.length; ) {
      const n = r.int(1, 3000);

      reader.push(stream.subarray(at, at + n));
      at += n;
      drain(reader, out);
    }
    assert.equal(out, messages, `seed ${seed}`);
  }
});

test('frameLength: need more bytes vs malformed', () => {
  const hello = loadConn('a1_list.conn1')[0]!.bytes;

  for (let n = 0; n < 12; n++) assert.is(frameLength(hello.subarray(0, n)), null);
  assert.is(frameLength(hello), 12);
  const badVersion = hello.slice();

  badVersion[0] = 1;
  assert.throws(() => frameLength(badVersion), (e: unknown) => e instanceof MalformedError && /version 1/.test((e as Error).message));
  const shortBlob = hello.slice();

  shortBlob[11] = 3;
  assert.throws(() => frameLength(shortBlob), (e: unknown) => e instanceof MalformedError);
  const huge = hello.slice();

  huge.set([0x00, 0x10, 0x00, 0x04], 8); // 1 MiB + 4
  assert.throws(() => frameLength(huge), (e: unknown) => e instanceof MalformedError && /exceeds/.test((e as Error).message));
});

test('decodeMessage: a frame shorter or longer than its header says is malformed', () => {
  const msg = loadConn('b1_call_uci_get.conn1')[1]!.bytes;

  assert.throws(() => decodeMessage(msg.subarray(0, msg.length - 4)), (e: unknown) => e instanceof MalformedError);
  assert.throws(() => decodeMessage(concat([msg, new Uint8Array(4)])), (e: unknown) => e instanceof MalformedError);
});

test('encodeMessage: attributes go out in the order given, header fields big-endian', () => {
  const bytes = encodeMessage({ type: MSG.SUBSCRIBE, seq: 0x1234, peer: 0xdeadbeef, attrs: { objid: 7, target: 0xfffffffe } });

  assert.is(hex(bytes), '0008' + '1234' + 'deadbeef' + '00000014' + '03000008' + '00000007' + '08000008' + 'fffffffe');
});

test.run();
