// The sessions' inside test (one number per IPv4 address) against the plain
// one it replaces: contains(prefixes, addressBytes(normalizeAddress(a))),
// on addresses and near misses, and prefixes of every length.

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { parseIPv4 } from '../../firmware/core/net/addr.ts';
import { addressBytes, contains, insideTest, ipv4Number, normalizeAddress, type Prefix } from '../../firmware/core/sessions/scope.ts';
import { rng } from '../lib/prng.ts';

const r = rng(11);
const quad = () => [0, 0, 0, 0].map(() => r.pick([0, 1, 10, 127, 168, 192, 255, r.int(0, 255)]));

/** Addresses as conntrack prints them, and what else a line may hold. */
function addresses(): string[] {
  const out: string[] = ['0.0.0.0', '255.255.255.255', '', '.', '1.2.3', '1.2.3.4.5', '1..2.3', '01.2.3.4', '1.2.3.04', '0.0.0.00', '256.1.1.1', '1.2.3.256', '1.2.3.4.', '.1.2.3', '1.2.3.4 ', '1.2.3.-4', '1000.1.1.1', 'a.b.c.d', '::', '::1', 'fd00:ab:cd::1', 'fd00:00ab:00cd:0000:0000:0000:0000:0001', '2001:db8::1', '::ffff:192.168.1.5', 'fd00::1::2', 'x'];

  for (let i = 0; i < 3000; i++) {
    const q = quad();

    out.push(q.join('.'));
    if (r.bool(0.1)) out.push(q.join('.').replace(/\d+$/, (d) => `${d}${r.int(0, 9)}`));
  }

  return out;
}

function prefixes(): Prefix[][] {
  const sets: Prefix[][] = [[], [{ bytes: [192, 168, 0, 0], length: 16 }], [{ bytes: [0, 0, 0, 0], length: 0 }], [{ bytes: [0xfd, 0, 0, 0xab, 0, 0xcd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], length: 48 }, { bytes: [10, 0, 0, 0], length: 8 }]];

  for (let i = 0; i < 40; i++) {
    const length = r.int(0, 32);

    sets.push([{ bytes: quad(), length }, ...(r.bool(0.5) ? [{ bytes: quad(), length: r.int(0, 32) }] : [])]);
  }

  return sets;
}

test('ipv4Number reads exactly what parseIPv4 reads', () => {
  for (const a of addresses()) {
    const bytes = parseIPv4(a);

    assert.is(ipv4Number(a), bytes ? ((bytes[0]! * 256 + bytes[1]!) * 256 + bytes[2]!) * 256 + bytes[3]! : -1, a);
  }
});

test('insideTest = contains(prefixes, addressBytes(normalizeAddress(a))), null where the address does not parse', () => {
  const all = addresses();
  let inside = 0;

  for (const set of prefixes()) {
    const test = insideTest(set);

    for (const a of all) {
      const bytes = addressBytes(normalizeAddress(a));
      const expected = bytes === null ? null : contains(set, bytes);

      if (expected) inside++;
      assert.is(test(a), expected, `${a} in ${JSON.stringify(set)}`);
    }
  }
  assert.ok(inside > 1000, `${inside} addresses were inside`);
});

test.run();
