// The blob / blobmsg codec: byte vectors from the real transcripts, a seeded
// round-trip property test (fields and JSON-like values, with length checks),
// the decoder's error cases, and JSON printing checked against C's printf.

import { spawnSync } from 'node:child_process';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { encodeAttr, padded, readAttr } from '../../firmware/ubus/blob.ts';
import { decodeFields, encodeField, encodeFields, MAX_DEPTH, type Field } from '../../firmware/ubus/blobmsg.ts';
import { EncodeError, MalformedError } from '../../firmware/ubus/errors.ts';
import { formatDouble, formatList, formatString } from '../../firmware/ubus/json.ts';
import { double, fromTable, fromValue, int16, int64, int8, toTable, toValue, type Table, type Value } from '../../firmware/ubus/value.ts';
import { rng, type Rng } from '../lib/prng.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

// --- vectors from the recorded transcripts --------------------------------

test('vectors: {"a":2,"b":40} and {"msg":"hello"} as `ubus call` sent them', () => {
  assert.is(hex(encodeFields(fromTable({ a: 2, b: 40 }))), '8500000c00016100000000028500000c0001620000000028');
  assert.is(hex(encodeFields(fromTable({ msg: 'hello' }))), '8300001200036d736700000068656c6c6f000000');
  // the event data of `ubus send demo.event '{"x":1,"s":"str","ok":true}'`
  const data = '8500000c00017800000000018300000c00017300737472008700000d00026f6b0000000001000000';

  assert.equal(toTable(decodeFields(bytes(data))), { x: 1, s: 'str', ok: true });
  assert.is(hex(encodeFields(fromTable({ x: 1, s: 'str', ok: true }))), data);
});

test('vectors: a method signature table, as the publisher registered it', () => {
  const sig: Field = { name: 'add', type: 'table', value: [{ name: 'a', type: 'int32', value: 5 }, { name: 'b', type: 'int32', value: 5 }] };

  assert.is(hex(encodeField(sig)), '8200002400036164640000008500000c00016100000000058500000c0001620000000005');
});

test('blob attr: header bits, padding, extended flag', () => {
  const a = encodeAttr(0x7f, Uint8Array.of(1, 2, 3, 4, 5), true);

  assert.is(hex(a), 'ff000009' + '0102030405' + '000000');
  const { attr, next } = readAttr(a, 0);

  assert.equal([attr.id, attr.extended, hex(attr.data), next], [0x7f, true, '0102030405', 12]);
});

// --- generated round trips ---------------------------------------------------

const TEXT = ['a', 'Z', '0', '_', '.', ' ', 'é', 'ß', '€', '你', '😀', '"', '\\', '\n', '\t', '\u0001', '\u001f', '\u007f'];

function text(r: Rng): string {
  const n = r.bool(0.05) ? r.int(250, 300) : r.int(0, 12);

  return Array.from({ length: n }, () => r.pick(TEXT)).join('');
}

const DOUBLES = [0, -0, 1.5, -2.25, 2, 1e21, 1e300, -1e-300, 5e-324, Number.MAX_VALUE, Infinity, -Infinity, NaN, 0.1, 1 / 3];
const INT64 = [0n, 1n, -1n, (1n << 63n) - 1n, -(1n << 63n), 2n ** 53n + 1n, -(2n ** 53n) - 1n, 2n ** 31n, -(2n ** 31n) - 1n];

function field(r: Rng, depth: number, name: string): Field {
  const types = depth < 5 ? ['unspec', 'array', 'table', 'string', 'int64', 'int32', 'int16', 'int8', 'double'] : ['string', 'int32', 'int8', 'double'];
  const type = r.pick(types);

  switch (type) {
    case 'unspec':
      return { name, type, value: Uint8Array.from({ length: r.int(0, 6) }, () => r.int(0, 255)) };
    case 'array':
    case 'table': {
      const n = r.int(0, 5);

      return { name, type, value: Array.from({ length: n }, () => field(r, depth + 1, type === 'table' ? text(r) : r.bool(0.9) ? '' : text(r))) };
    }
    case 'string':
      return { name, type, value: text(r) };
    case 'int64':
      return { name, type, value: r.bool(0.5) ? r.pick(INT64) : BigInt(r.int(-(2 ** 40), 2 ** 40)) * BigInt(r.int(-4096, 4096)) };
    case 'int32':
      return { name, type, value: r.int(-(2 ** 31), 2 ** 31 - 1) };
    case 'int16':
      return { name, type, value: r.int(-32768, 32767) };
    case 'int8':
      return { name, type, value: r.int(-128, 127) };
    default:
      return { name, type: 'double', value: r.bool(0.5) ? r.pick(DOUBLES) : (r.next() - 0.5) * 10 ** r.int(-30, 30) };
  }
}

/** Length rules: padded to 4, header length = 4 + name header + value, a
 * container's length counts its children padded. */
function checkLengths(f: Field, enc: Uint8Array): void {
  assert.is(enc.length % 4, 0);
  const { attr, next } = readAttr(enc, 0);

  assert.is(next, enc.length);
  const nameHeader = padded(2 + Buffer.byteLength(f.name) + 1);
  const valueLen = attr.data.length - nameHeader;

  if (f.type === 'array' || f.type === 'table') {
    assert.is(valueLen, f.value.reduce((sum, c) => sum + encodeField(c).length, 0));
  } else {
    const expected = { unspec: 0, string: Buffer.byteLength(f.type === 'string' ? f.value : '') + 1, int8: 1, int16: 2, int32: 4, int64: 8, double: 8 }[f.type];

    assert.is(valueLen, f.type === 'unspec' ? f.value.length : expected);
  }
}

test('property: decode(encode(fields)) = fields, re-encoding is byte-identical (2000 seeded trees)', () => {
  for (let seed = 1; seed <= 2000; seed++) {
    const r = rng(seed);
    const fields = Array.from({ length: r.int(0, 4) }, () => field(r, 0, text(r)));
    const enc = encodeFields(fields);
    const dec = decodeFields(enc);

    assert.equal(dec, fields, `seed ${seed}`);
    assert.is(hex(encodeFields(dec)), hex(enc), `seed ${seed}: re-encode`);
    for (const f of fields) checkLengths(f, encodeField(f));
  }
});

function value(r: Rng, depth: number): Value {
  switch (r.int(0, depth < 4 ? 9 : 6)) {
    case 0:
      return null;
    case 1:
      return r.bool();
    case 2:
      return text(r);
    case 3:
      return r.int(-(2 ** 31), 2 ** 31 - 1);
    case 4:
      return r.pick([2 ** 31, -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, r.int(2 ** 32, 2 ** 50)]);
    case 5:
      return r.pick([0.5, -1.25, 1e300, 1e21, Infinity, NaN, 2 ** 60, (r.next() - 0.5) * 1e6]);
    case 6:
      return r.pick([2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n, -(2n ** 60n)]);
    case 7:
    case 8:
      return Array.from({ length: r.int(0, 4) }, () => value(r, depth + 1));
    default:
      return table(r, depth + 1);
  }
}

function table(r: Rng, depth: number): Table {
  const t: Table = {};

  // letters only: JS puts integer-like keys first, which would reorder them
  for (let i = r.int(0, 4); i > 0; i--) t['k' + text(r)] = value(r, depth);

  return t;
}

test('property: JSON-like values survive the wire as blobmsg_json would send them (2000 seeded tables)', () => {
  for (let seed = 1; seed <= 2000; seed++) {
    const t = table(rng(seed), 0);
    const enc = encodeFields(fromTable(t));
    const back = toTable(decodeFields(enc));

    assert.equal(back, t, `seed ${seed}`);
    assert.is(hex(encodeFields(fromTable(back))), hex(enc), `seed ${seed}: re-encode`);
  }
});

test('value inference: the types blobmsg_add_json_element picks', () => {
  const types = (v: Value) => fromValue('v', v).type;

  assert.equal(
    [true, 'x', null, 7, -(2 ** 31), 2 ** 31, 2 ** 40, 0.5, 2 ** 60, [], {}, 5n].map(types),
    ['int8', 'string', 'unspec', 'int32', 'int32', 'int64', 'int64', 'double', 'double', 'array', 'table', 'int64'],
  );
  assert.equal([int8(3), int16(-2), int64(1), double(2)].map(types), ['int8', 'int16', 'int64', 'double']);
  // decoding: int8 is a boolean, int64 a number when exact, else a bigint
  assert.is(toValue({ name: '', type: 'int8', value: 2 }), true);
  assert.is(toValue({ name: '', type: 'int64', value: 2n ** 53n }), 2n ** 53n);
  assert.is(toValue({ name: '', type: 'int64', value: 2n ** 53n - 1n }), 2 ** 53 - 1);
  assert.is(toValue({ name: '', type: 'double', value: 2 }), 2);
  // "__proto__" is data, not a prototype change
  const t = toTable([{ name: '__proto__', type: 'int32', value: 1 }]);

  assert.equal(Object.keys(t), ['__proto__']);
  assert.is(Object.getPrototypeOf(t), Object.prototype);
});

test('encode errors: NUL in names and strings, out-of-range integers, non-data values', () => {
  const fails = (f: () => unknown) => assert.throws(f, (e: unknown) => e instanceof EncodeError);

  fails(() => encodeField({ name: 'a\0b', type: 'int32', value: 1 }));
  fails(() => encodeField({ name: 'a', type: 'string', value: 'x\0y' }));
  fails(() => encodeField({ name: 'a', type: 'int32', value: 2 ** 32 }));
  fails(() => encodeField({ name: 'a', type: 'int16', value: 1.5 }));
  fails(() => encodeField({ name: 'a', type: 'int64', value: 1n << 64n }));
  fails(() => fromValue('a', (() => 1) as unknown as Value));
  fails(() => fromValue('a', new Date() as unknown as Value));
});

// --- decoder errors ------------------------------------------------------------

function malformed(h: string, pattern: RegExp): void {
  assert.throws(
    () => decodeFields(bytes(h)),
    (e: unknown) => e instanceof MalformedError && pattern.test((e as Error).message),
  );
}

test('decode errors are MalformedError, naming what is wrong', () => {
  malformed('0500000800000001', /extended bit/); // a plain blob attr where blobmsg is expected
  malformed('8900000c0001610000000000', /unknown blobmsg type 9/);
  malformed('8500000b000161000000ff00', /3 bytes, not 4/); // int32 with 3 bytes
  malformed('8300000c0001610061626364', /not NUL-terminated/);
  malformed('83000008ffff0000', /overruns/); // name longer than the attribute
  malformed('8500000c0001610000000001' + '8500', /cut short/); // trailing half attribute
  malformed('82000010' + '00016100' + '8500000c' + '00016200', /overruns its container/); // child runs past its table
  malformed('82000003', /length 3 < 4/);
  const nest = (levels: number) => {
    let inner = encodeField({ name: '', type: 'int8', value: 1 });

    for (let i = 0; i < levels; i++) inner = encodeAttr(1, new Uint8Array([0, 0, 0, 0, ...inner]), true);

    return inner;
  };

  assert.throws(() => decodeFields(nest(MAX_DEPTH + 1)), (e: unknown) => e instanceof MalformedError && /deeper than/.test((e as Error).message));
  assert.is(decodeFields(nest(MAX_DEPTH))[0]!.type, 'array');
});

// --- printing ----------------------------------------------------------------

test('formatList prints as blobmsg_format_json: compact and indented, empty containers', () => {
  const f = fromTable({ a: 1, b: [true, null, 's'], c: {}, d: [] });

  assert.is(formatList(f), '{"a":1,"b":[true,null,"s"],"c":{},"d":[]}');
  assert.is(formatList(f, { indent: 0 }), '{\n\t"a": 1,\n\t"b": [\n\t\ttrue,\n\t\tnull,\n\t\t"s"\n\t],\n\t"c": {\n\t\t\n\t},\n\t"d": [\n\t\t\n\t]\n}');
  assert.is(formatList([], { indent: 0 }), '{\n\t\n}');
  assert.is(formatList(fromTable({ big: 2n ** 63n - 1n, h: int16(-5), d: double(2) })), '{"big":9223372036854775807,"h":-5,"d":2.000000}');
});

test('formatString escapes like blobmsg_format_string', () => {
  assert.is(formatString('a"b\\c\n\t\r\b\f\u0001\u001f\u007fé'), '"a\\"b\\\\c\\n\\t\\r\\b\\u000c\\u0001\\u001f\u007fé"');
});

test('formatDouble = C printf("%lf") (checked against mawk, which calls printf with a double)', () => {
  const r = rng(42);
  const values = [0, -0, 0.5, 2.5, 0.0078125, -0.0078125, 0.0000005, 2.5e-7, 1e-7, 1.0000005, 1e21, 1e22, 1e300, -1e300, 5e-324, Number.MAX_VALUE, 123456.7890125];

  for (let i = 0; i < 2000; i++) values.push((r.next() - 0.5) * 10 ** r.int(-12, 25));
  for (let i = 0; i < 200; i++) values.push(r.int(-(10 ** 9), 10 ** 9) / 2 ** r.int(1, 30));
  const script = `{ printf "%f\\n", $1 * 1 }`;
  const input = values.map((v) => (Object.is(v, -0) ? '-0' : v.toPrecision(17))).join('\n') + '\n';
  const out = spawnSync('mawk', [script], { input, encoding: 'utf8' });

  assert.is(out.status, 0, out.stderr);
  const expected = out.stdout.trimEnd().split('\n');

  values.forEach((v, i) => assert.is(formatDouble(v), expected[i], `${v}`));
  assert.equal([NaN, Infinity, -Infinity].map(formatDouble), ['nan', 'inf', '-inf']);
});

test.run();
