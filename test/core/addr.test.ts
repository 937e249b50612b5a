import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { formatIPv6, parseHost, parseIPv6 } from '../../firmware/core/net/addr.ts';

for (const [input, text] of [
  ['192.168.1.20', '192.168.1.20'],
  ['192.168.1.0/24', '192.168.1.0/24'],
  ['10.0.0.0/8', '10.0.0.0/8'],
  ['10.1.2.3/32', '10.1.2.3'],
  ['0.0.0.0/0', '0.0.0.0/0'],
  ['fd00:ab:cd::20', 'fd00:ab:cd::20'],
  ['FD00:00AB:00CD:0000:0000:0000:0000:0020', 'fd00:ab:cd::20'],
  ['2001:db8::', '2001:db8::'],
  ['::', '::'],
  ['::1', '::1'],
  ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
  ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
  ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
  ['::ffff:192.0.2.1', '::ffff:c000:201'],
  ['fd00:ab:cd::/60', 'fd00:ab:cd::/60'],
  ['AA-BB-CC-DD-EE-FF', 'aa:bb:cc:dd:ee:ff'],
  ['00:11:22:33:44:55', '00:11:22:33:44:55'],
] as const) {
  test(`host '${input}' → '${text}'`, () => {
    assert.is(parseHost(input)?.text, text);
    assert.is(parseHost(input)?.hostBitsSet, undefined);
  });
}

test('a prefix with host bits set is reduced to its network, and says so', () => {
  assert.equal(parseHost('192.168.1.5/24'), { kind: 'ipv4', text: '192.168.1.0/24', hostBitsSet: true });
  assert.equal(parseHost('fd00:ab:cd::20/64'), { kind: 'ipv6', text: 'fd00:ab:cd::/64', hostBitsSet: true });
});

for (const bad of ['', '192.168.1', '192.168.1.256', '192.168.01.1', '1.2.3.4/33', '1.2.3.4/', 'fd00::1::2', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', 'fd00::/129', 'g::1', 'aa:bb:cc:dd:ee', 'aa:bb-cc:dd:ee:ff', 'lan', '192.168.1.1 ']) {
  test(`'${bad}' is not a host`, () => {
    if (bad === '192.168.1.1 ') return assert.is(parseHost(bad)?.text, '192.168.1.1'); // surrounding blanks are forgiven

    assert.is(parseHost(bad), null);
  });
}

test('IPv6 round trip on generated addresses', () => {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 4;

  for (let n = 0; n < 2000; n++) {
    const bytes = Array.from({ length: 16 }, () => [0, 0, 1, 255][rnd()]!);

    assert.equal(parseIPv6(formatIPv6(bytes)), bytes);
  }
});

test.run();
