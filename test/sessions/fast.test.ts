// The fast paths against the plain ones, on generated tables and on tricky
// variations of their lines: the block scanner (two native searches per
// ordinary line) against the same lines fed one at a time, and readEntry
// (bytes) against parseEntry (text). Same sessions, same entries and
// skipped lines, whatever the chunk boundaries.

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { Session } from '../../firmware/core/model.ts';
import { compareSessions, SessionCollector, sortSessions } from '../../firmware/core/sessions/classify.ts';
import { parseEntry, readEntry, scratchEntry, type Entry } from '../../firmware/core/sessions/conntrack.ts';
import { MAX_LINE } from '../../firmware/core/sessions/lines.ts';
import { collectSessions } from '../../firmware/core/sessions/table.ts';
import { rng, type Rng } from '../lib/prng.ts';
import { generateTable, WAN } from './generate.ts';

const enc = new TextEncoder();

/** What the kernel, conntrack and a saved file may do to a line. */
function variants(line: string, r: Rng): string[] {
  const out = [line];
  const plain = line.replace(/^ipv[46] +\d+ /, ''); // conntrack -L: no family columns

  out.push(plain);
  out.push(line.replace(' use=', ' helper=pptp use=').replace(' mark=0', ' mark=0 secctx=system_u:object_r:unlabeled_t:s0'));
  out.push(line.replace(' use=', ' delta-time=42 use=') + ' id=3735928559');
  out.push(line.replace(/ packets=\d+ bytes=\d+/g, '')); // accounting off
  out.push(line.replace(/( dport=\d+)/, '$1 [UNREPLIED]').replace(' [ASSURED]', ''));
  out.push(line.replace(/sport=\d+/, `sport=${r.pick([5, 53, 500, 4500, 1701, 999, 1723, 12345])}`)); // short source ports, VPN ones
  out.push(line.replace(/ dport=\d+/, ` dport=${r.pick([50, 5000, 4501, 1700, 17, 450, 1723, 500, 4500, 1701, 172])}`)); // near misses
  out.push(line.replace(/(src=\S+ dst=\S+ sport=)(\d+)( dport=)(\d+)(.*? src=\S+ dst=\S+ sport=)(\d+)/, '$1$2$3$4$5500')); // a VPN port in the reply only
  out.push(line.replace('ESTABLISHED', r.pick(['TIME_WAIT', 'SYN_SENT', 'CLOSE', 'FIN_WAIT', 'SYN_SENT2'])));
  out.push(line.replace('timeout=30, stream_timeout=180 ', '')); // GRE as conntrack prints it
  out.push(line.replace('unknown  50', 'esp      50').replace('unknown  51', 'ah       51'));
  out.push(`${line}\r`, `${line}  `, `  ${line}`);
  out.push(line.replace(/dst=(\d+\.\d+\.\d+\.\d+)/, 'dst=fd00:2::$1')); // compressed IPv6 (conntrack)
  out.push(line.replace(/ dport=(\d+)/, ' dport=$1x'), line.replace(/ sport=/, ' sport=x'), line.replace('src=', 'src=a src='));
  // Cut short anywhere (a saved table whose last line was cut, a line lost in the middle)
  for (let i = 0; i < 4; i++) out.push(line.slice(0, r.int(1, line.length - 1)));
  out.push(line.slice(0, line.indexOf(' dport=') + 7), line.slice(0, line.indexOf(' dport=') + 8));

  return out;
}

function tricky(seed: number, entries: number, vpn: number): string[] {
  const r = rng(seed);
  const lines: string[] = [];

  for (const line of generateTable(entries, vpn, seed)) {
    if (r.bool(0.3)) lines.push(...variants(line, r).filter(() => r.bool(0.5)));
    else lines.push(line);
  }
  const long = `ipv4     2 tcp      6 431999 ESTABLISHED src=192.168.1.9 dst=10.0.2.2 sport=40000 dport=443 src=10.0.2.2 dst=${WAN} sport=443 dport=40000 [ASSURED] mark=0 zone=0 use=2`;

  // Lines of MAX_LINE bytes are read, longer ones dropped and counted: also across chunks.
  lines.push(long + ' '.repeat(MAX_LINE - long.length), long + ' '.repeat(MAX_LINE + 1 - long.length), 'x'.repeat(3 * MAX_LINE));
  lines.push('', '   ', 'garbage', `ipv4     2 icmp     1 29 src=1.2.3.4 dst=5.6.7.8 type=8 code=0 id=1 src=5.6.7.8 dst=${WAN} type=0 code=0 id=1 mark=0 zone=0 use=2`);

  return lines;
}

/** One line at a time, the plain path: triage, then readEntry for a possible VPN flow. */
function oneByOne(lines: string[]) {
  const c = new SessionCollector({ inside: null });
  let dropped = 0;

  for (const l of lines) {
    if (l.length > MAX_LINE) dropped++; // as the line splitter does
    else c.line(l);
  }

  return { sessions: c.sessions(), entries: c.entries, skipped: c.skipped + dropped };
}

/** The whole text in chunks of random sizes, through the block scanner. */
async function blocks(lines: string[], r: Rng, max: number) {
  const bytes = enc.encode(lines.join('\n') + '\n');
  const chunks: Uint8Array[] = [];

  for (let at = 0; at < bytes.length; ) {
    const n = r.int(1, max);

    chunks.push(bytes.slice(at, at + n));
    at += n;
  }

  return collectSessions(chunks, { inside: null });
}

const key = (s: Session) => JSON.stringify(s);

test('block scanner = one line at a time: sessions, entries, skipped, on tricky tables in random chunks', async () => {
  for (const [seed, entries, vpn] of [[1, 3000, 3], [2, 3000, 300], [3, 2000, 1000], [4, 500, 500]] as const) {
    const lines = tricky(seed, entries, vpn);
    const plain = oneByOne(lines);
    const r = rng(seed);

    assert.ok(plain.sessions.length > 0 && plain.skipped > 0, `seed ${seed}: the table has sessions and bad lines`);
    for (const max of [65536, 4096, 300]) {
      const fast = await blocks(lines, r, max);

      assert.equal(fast.sessions.map(key), plain.sessions.map(key), `seed ${seed}, chunks up to ${max}`);
      assert.equal([fast.entries, fast.skipped], [plain.entries, plain.skipped], `seed ${seed}, chunks up to ${max}`);
    }
  }
});

test('the plain path still finds exactly the generated VPN flows among the variations', () => {
  const lines = [...generateTable(2000, 200, 9)];
  const plain = oneByOne(lines);

  assert.is(plain.sessions.length, 200);
  assert.is(plain.entries, 2000);
});

/** parseEntry's fields, less what readEntry leaves undecoded (the reply's ports and srckey). */
function fields(e: Entry | null) {
  return e && { ...e, flags: [...e.flags], original: { ...e.original }, reply: { ...e.reply, sport: null, dport: null, srckey: null } };
}

test('readEntry (bytes) = parseEntry (text) on every variation, including cut lines', () => {
  const r = rng(5);
  const e = scratchEntry();
  let lines = 0;

  for (const line of generateTable(3000, 600, 5)) {
    for (const v of [...variants(line, r), ...Array.from({ length: 6 }, () => line.slice(0, r.int(0, line.length)))]) {
      const b = enc.encode(v);
      const text = parseEntry(v);

      assert.equal(readEntry(b, 0, b.length, e) ? fields(e) : null, fields(text), v);
      lines++;
    }
  }
  assert.ok(lines > 50_000);
});

test('sortSessions = sort(compareSessions), stable, on addresses that are prefixes of each other', () => {
  const r = rng(8);
  const pick = <T>(xs: readonly T[]) => r.pick(xs);
  const list: Session[] = Array.from({ length: 3000 }, () => ({
    protocol: pick(['pptp', 'l2tp', 'ipsec'] as const), inside: pick(['10.0.0.1', '10.0.0.10', '10.0.0.100', '9.1.1.1', 'fd00:1::1', 'fd00:1::10', 'fd00::']),
    outside: pick(['203.0.113.1', '203.0.113.10', '2001:db8::1']), transport: pick(['control', 'gre', 'ike', 'nat-t', 'esp', 'ah', 'l2tp']),
    helper: null, packets: r.int(0, 9), bytes: null, age: null, inside_port: pick([null, 0, 5, 500, 4500, 40000, 65535]), outside_port: null, call_ids: null, replied: true,
  }));

  assert.equal(sortSessions(list), [...list].sort(compareSessions));
});

test.run();
