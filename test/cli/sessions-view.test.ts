// `vpn-passthrough sessions` in words: only the columns this router can
// fill (with the sysctl that would fill the others), "n/a" where a protocol
// has no conntrack helper, plural forms; and the probe report in words.

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { sessionLines } from '../../firmware/cli/commands/sessions.ts';
import type { Session, SessionsReport } from '../../firmware/core/model.ts';
import { columns } from '../../firmware/core/sessions/columns.ts';

const session = (over: Partial<Session>): Session => ({
  protocol: 'ipsec', inside: '192.168.1.20', outside: '10.0.2.2', transport: 'nat-t', helper: false, packets: null, bytes: null, age: null,
  inside_port: 4500, outside_port: 4500, call_ids: null, replied: true, ...over,
});

const report = (sessions: Session[], conntrack: SessionsReport['conntrack']): SessionsReport => ({ sessions, warnings: [], skipped: 0, entries: 7, source: '/proc/net/nf_conntrack', ...(conntrack ? { conntrack } : {}) });

test('no byte counts, no timestamps: neither column, and the sysctls that would fill them', () => {
  const lines = sessionLines(report([session({})], { accounting: false, timestamps: false }));

  assert.equal(lines[0]!.split(/\s+/), ['protocol', 'transport', 'inside', 'outside', 'helper']);
  assert.ok(lines.includes('(no traffic column: conntrack keeps no byte counts here; `sysctl -w net.netfilter.nf_conntrack_acct=1` keeps them for connections that start after it)'), lines.join('\n'));
  assert.ok(lines.includes('(no age column: conntrack keeps no start times here; `sysctl -w net.netfilter.nf_conntrack_timestamp=1` keeps them for connections that start after it)'));
  assert.is(lines.at(-1), '1 VPN session among 7 conntrack entries (/proc/net/nf_conntrack)');
});

test('accounting on: traffic shown (a session from before shows "-"); timestamps kept by a session: age shown', () => {
  const lines = sessionLines(report([session({ packets: 1, bytes: 100 }), session({ inside: '192.168.1.21', age: 42 }), session({ inside: '192.168.1.22' })], { accounting: true, timestamps: false }));

  assert.match(lines[0]!, /helper  traffic +age$/);
  assert.match(lines[1]!, /1 pkt \/ 100 B +-$/);
  assert.match(lines[2]!, /- +42 s$/);
  assert.not.ok(lines.some((l) => l.startsWith('(no ')));
});

test('a saved table (what conntrack keeps unknown): columns by what the sessions have', () => {
  assert.equal(columns(report([session({ packets: 3, bytes: 9 })], { accounting: null, timestamps: null })), { traffic: true, age: false, hidden: [{ column: 'age', sysctl: 'net.netfilter.nf_conntrack_timestamp' }] });
  assert.equal(columns(report([], undefined)).hidden.length, 2);
  assert.equal(sessionLines(report([], { accounting: false, timestamps: false })), ['0 VPN sessions among 7 conntrack entries (/proc/net/nf_conntrack)'], 'nothing to explain without sessions');
});

test('helper: yes / NO / ? for PPTP over IPv4; n/a for L2TP, IPsec and PPTP over IPv6', () => {
  const lines = sessionLines(report([
    session({ protocol: 'pptp', transport: 'control', helper: true, outside_port: 1723 }),
    session({ protocol: 'pptp', transport: 'control', helper: false, inside: '192.168.1.21' }),
    session({ protocol: 'pptp', transport: 'control', helper: null, inside: '192.168.1.22' }),
    session({ protocol: 'pptp', transport: 'control', helper: false, inside: 'fd00:ab:cd::20', outside: '2001:db8::2' }),
    session({ protocol: 'l2tp', transport: 'l2tp' }),
    session({ protocol: 'ipsec', transport: 'esp', inside_port: null, outside_port: null }),
  ], { accounting: false, timestamps: false }));

  assert.equal(lines.slice(1, 7).map((l) => l.trim().split(/\s+/).at(-1)), ['yes', 'NO', '?', 'n/a', 'n/a', 'n/a']);
});

test.run();
