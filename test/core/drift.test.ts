// What the kernel lost, from listings the real kernel printed (`nft -s list
// table inet vpn_passthrough` of the default ruleset, test/fixtures/drift):
// as loaded; with traffic's esp_senders elements; and damaged by another
// tool (a flushed chain and set, the table made dormant).

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { describeDrift, normalizeListing } from '../../firmware/core/drift.ts';
import { own } from '../lib/fixtures.ts';

const loaded = own('drift/loaded.listing');
const traffic = own('drift/traffic.listing');
const damaged = own('drift/damaged.listing');

test('the same listing: nothing lost', () => {
  assert.is(describeDrift(loaded, loaded), null);
});

test("elements traffic put into esp_senders (a dynamic set, listed on several lines) are no loss", () => {
  assert.match(traffic, /elements = \{ 192\.168\.1\.21 \. 10\.0\.2\.1,\n\t+ *192\.168\.1\.22/);
  assert.is(normalizeListing(traffic), normalizeListing(loaded));
  assert.is(describeDrift(loaded, traffic), null);
});

test("a static set's elements are rules: their loss is named", () => {
  const flushed = loaded.replace(/\t\telements = \{ "lo" \}\n(?=\t\}\n\n\tset esp_senders)/, '');

  assert.is.not(flushed, loaded);
  assert.is(describeDrift(loaded, flushed), 'set outside lost its elements');
});

test('a damaged table: each change named, the table-level ones first', () => {
  assert.is(describeDrift(loaded, damaged), 'table inet vpn_passthrough changed (flags dormant), set outside lost its elements, chain l2tp_traffic lost its rules');
});

test('gone, added, changed, and more than three', () => {
  assert.is(describeDrift(loaded, null), 'table inet vpn_passthrough is gone');
  assert.is(describeDrift(loaded, loaded.replace(/\tcounter pptp_drop \{\n\t\}\n\n/, '')), 'counter pptp_drop is gone');
  assert.is(describeDrift(loaded, loaded.replace(/\n}\n$/, '\n\n\tchain extra {\n\t\taccept\n\t}\n}\n')), 'chain extra was added');
  assert.is(describeDrift(loaded, loaded.replace('goto l2tp_pass', 'accept')), 'chain l2tp_traffic changed');
  const five = loaded.replace(/\tcounter \w+ \{\n\t\}\n\n/g, '');

  assert.is(describeDrift(loaded, five), 'counter pptp_pass is gone, counter l2tp_pass is gone, counter ipsec_pass is gone and 3 more');
});

test('no table expected (the master switch off)', () => {
  assert.is(describeDrift('', null), null);
  assert.is(describeDrift('', loaded), 'table inet vpn_passthrough exists though none should be loaded');
});

test.run();
