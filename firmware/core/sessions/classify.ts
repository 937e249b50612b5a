// Conntrack entries → the VPN sessions that cross the router from inside to
// outside. Fed one line at a time; keeps only the VPN flows it finds, so its
// memory grows with the number of sessions, never with the table.
//
// What makes a flow a session (original direction = who started it):
//   PPTP   TCP to port 1723 ('control'); GRE with a Call ID key ('gre')
//   IPsec  UDP to 500 ('ike') or 4500 ('nat-t'); ESP ('esp'); AH ('ah')
//   L2TP   UDP to 1701 ('l2tp')
// started by an inside address towards one that is not inside, and not
// destination-NATed (a port forward is a server hosted inside: not ours).
//
// The PPTP helper, which procfs never prints, shows in the GRE keys: the
// GRE tracker learns the client's Call ID (original srckey) only from the
// helper's keymap, so a GRE flow with srckey 0 passed without the helper.

import type { ProtocolName, Session } from '../model.ts';
import { readEntry, scratchEntry, type Entry } from './conntrack.ts';
import { MAX_LINE, type LineSink } from './lines.ts';
import { insideTest, normalizeAddress, type InsideTest, type Prefix } from './scope.ts';

export interface CollectOptions {
  /** The inside prefixes; null when unknown (a table saved elsewhere). */
  inside: readonly Prefix[] | null;
  /** The source prints helper= (conntrack -L), so its absence means none;
   * procfs never does. Undefined: decided by whether any line has one. */
  helperShown?: boolean;
}

const TCP = 6, UDP = 17, GRE = 47, ESP = 50, AH = 51;
const LIVE_TCP = new Set(['SYN_SENT', 'SYN_RECV', 'ESTABLISHED']);

type Kind = { readonly protocol: ProtocolName; readonly transport: string };
const kind = (protocol: ProtocolName, transport: string): Kind => Object.freeze({ protocol, transport });
const CONTROL = kind('pptp', 'control'), GRE_CALL = kind('pptp', 'gre'), IKE = kind('ipsec', 'ike'), NAT_T = kind('ipsec', 'nat-t');
const L2TP = kind('l2tp', 'l2tp'), ESP_FLOW = kind('ipsec', 'esp'), AH_FLOW = kind('ipsec', 'ah');

/** The protocol and transport of a VPN flow, or null for any other flow. */
export function vpnKind(e: Entry): Kind | null {
  const port = e.original.dport;

  switch (e.proto) {
    case TCP: return port === 1723 ? CONTROL : null;
    case GRE: return (e.original.dstkey ?? 0) !== 0 ? GRE_CALL : null;
    case UDP:
      if (port === 500) return IKE;
      if (port === 4500) return NAT_T;
      if (port === 1701) return L2TP;

      return null;
    case ESP: return ESP_FLOW;
    case AH: return AH_FLOW;
    default: return null;
  }
}

/** Started inside, going outside. Without the inside prefixes: IPv4 must be
 * masqueraded (as it is on every OpenWrt wan), IPv6 is taken as it is. */
export function outbound(e: Entry, inside: InsideTest | null): boolean {
  const { original: o, reply: r } = e;

  if (r.src !== o.dst) return false; // destination NAT: a server hosted inside
  if (inside === null) return e.family === 'ipv6' || r.dst !== o.src;

  return inside(o.src) === true && inside(o.dst) === false;
}

const sum = (a: number | null, b: number | null) => (a === null || b === null ? null : a + b);

function session(e: Entry, protocol: ProtocolName, transport: string): Session {
  const { original: o, reply: r } = e;
  const gre = transport === 'gre';
  // A control connection's helper is settled once the whole table is read.
  const helper = gre ? (o.srckey ?? 0) !== 0 : transport === 'control' ? null : false;

  return {
    protocol,
    inside: normalizeAddress(o.src),
    outside: normalizeAddress(o.dst),
    transport,
    helper,
    packets: sum(o.packets, r.packets),
    bytes: sum(o.bytes, r.bytes),
    age: e.age,
    inside_port: o.sport,
    outside_port: o.dport,
    call_ids: gre ? { client: o.srckey || null, server: o.dstkey ?? 0, translated: r.dstkey || null } : null,
    replied: !e.flags.includes('UNREPLIED'),
  };
}

/** Protocols in the order status lists them, then by address. */
const ORDER: Record<string, number> = { pptp: 0, l2tp: 1, ipsec: 2 };

/** Code-unit order: the same on every runtime, and localeCompare (Unicode
 * normalisation on QuickJS) is too slow for thousands of sessions. */
const text = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function compareSessions(a: Session, b: Session): number {
  return (ORDER[a.protocol]! - ORDER[b.protocol]!) || text(a.inside, b.inside) || text(a.outside, b.outside) ||
    text(a.transport, b.transport) || (a.inside_port ?? 0) - (b.inside_port ?? 0);
}

const SPACE = 32, EQ = 61;
const digit = (c: number | undefined) => c !== undefined && c >= 48 && c <= 57;

/** The start of the token after the one at p (within the line), or -1. */
function nextToken(b: Uint8Array, p: number, end: number): number {
  let q = b.indexOf(SPACE, p);

  if (q < 0 || q >= end) return -1;
  while (q < end && b[q] === SPACE) q++;

  return q < end ? q : -1;
}

/** The decimal number at p, or -1. */
function number(b: Uint8Array, p: number, end: number): number {
  let n = 0;
  let q = p;

  while (q < end && digit(b[q])) n = n * 10 + b[q++]! - 48;

  return q > p && (q === end || b[q] === SPACE) ? n : -1;
}

/** The leading digits at p as a number (a port), or -1 when there are none. */
function leadingNumber(b: Uint8Array, p: number, end: number): number {
  let n = 0;
  let q = p;

  while (q < end && digit(b[q])) n = n * 10 + b[q++]! - 48;

  return q > p ? n : -1;
}

/** The original direction's destination port: the first dport= after the
 * first src= (-1 if there is none), as the block scanner finds it. */
function originalDport(b: Uint8Array, p: number, end: number): number {
  let src = false;

  for (let q = b.indexOf(EQ, p); q >= 0 && q < end; q = b.indexOf(EQ, q + 1)) {
    // "src=": c(99) r(114) s(115) preceded by a space; "dport=": t(116) r o p d(100)
    if (b[q - 1] === 99 && b[q - 2] === 114 && b[q - 3] === 115 && b[q - 4] === SPACE) src = true;
    else if (src && b[q - 1] === 116 && b[q - 5] === 100 && b[q - 4] === 112) return leadingNumber(b, q + 1, end);
  }

  return -1;
}

/** The line carries the reply tuple (its src= and the dst= after it): it
 * was not cut short. For the rare protocols triage does not look into. */
function hasReply(b: Uint8Array, p: number, end: number): boolean {
  let srcs = 0;

  for (let q = b.indexOf(EQ, p); q >= 0 && q < end; q = b.indexOf(EQ, q + 1)) {
    if (b[q - 1] === 99 && b[q - 2] === 114 && b[q - 3] === 115 && b[q - 4] === SPACE && ++srcs === 2) {
      const dst = b.indexOf(EQ, q + 1);

      return dst >= 0 && dst < end;
    }
  }

  return false;
}

/** Where the l4 protocol number is in procfs's and conntrack's own layout
 * ("%-8s %u %-8s %u "): "ipv4     2 tcp      6 " has it at 20, "ipv6
 * 10 ..." at 21. -1 when the line is laid out otherwise. */
function fixedProto(b: Uint8Array, s: number): number {
  if (b[s] !== 105 || b[s + 4] !== SPACE || b[s + 8] !== SPACE) return -1; // "ipv4    "
  const at = b[s + 10] === SPACE ? s + 20 : s + 21;

  return b[at - 1] === SPACE && b[at - 10] === SPACE && digit(b[at]) ? at : -1;
}

/** A look at the raw bytes of one line: 'vpn' may be a VPN flow (read it in
 * full), 'other' is an entry of no interest, 'malformed' has no readable
 * header or (TCP, UDP) original destination port. The block scanner comes
 * to the same answers faster for the lines laid out as usual. */
export function triage(b: Uint8Array, start: number, end: number): 'vpn' | 'other' | 'malformed' {
  let p = fixedProto(b, start);

  if (p < 0) {
    p = start;
    // "ipv4     2 " / "ipv6     10 " (absent from plain `conntrack -L`)
    if (b[p] === 105 && b[p + 1] === 112 && b[p + 2] === 118) {
      p = nextToken(b, p, end);
      if (p < 0 || !digit(b[p])) return 'malformed';
      p = nextToken(b, p, end);
    }
    // "<l4 name> <l4 number> <timeout> "
    if (p >= 0) p = nextToken(b, p, end);
    if (p < 0) return 'malformed';
  }

  const proto = number(b, p, end);

  p = nextToken(b, p, end);
  if (proto < 0 || p < 0 || number(b, p, end) < 0) return 'malformed';

  // Most of a table is other traffic: decide on the original port alone. A
  // possible VPN line is parsed in full, which rejects one cut short.
  switch (proto) {
    case 6: case 17: {
      const dport = originalDport(b, p, end);

      if (dport < 0) return 'malformed';
      if (proto === 6) return dport === 1723 ? 'vpn' : 'other';

      return dport === 500 || dport === 4500 || dport === 1701 ? 'vpn' : 'other';
    }
    case 47: case 50: case 51: return 'vpn';
    default: return hasReply(b, p, end) ? 'other' : 'malformed';
  }
}

// The block scanner's fingerprint of an ordinary line. Of the bytes a
// kernel or conntrack line is made of, 'o' first occurs in the original
// tuple's "sport=" (TCP, UDP), in ICMP's "code=", GRE's "timeout=" or
// "unknown" (the kernel's name for ESP and AH): so one native search lands
// on the original source port, and the destination port, the only thing
// that tells a VPN flow, has its "o" 12 bytes on when the source port has
// five digits, 11 when four (nearly always: clients pick theirs from
// 32768-60999 or 49152-65535, older ones from 1024-5000). Nothing else
// puts an "o" there with a "d" two before it. On txiki.js a native search
// or a few byte compares are what a line may cost: reading it costs ~100 ns.
const NL = 10, O = 111, S = 115;

/** The first two digits of a destination port may begin 500, 4500, 1701
 * or 1723: the line needs a closer look. */
const maybeVpnPort = (c: number, c2: number | undefined) => (c === 53 ? c2 === 48 : c === 52 ? c2 === 53 : c === 49 && c2 === 55);

/** Where the l4 protocol number is in procfs's and conntrack's own layout
 * ("%-8s %u"), with or without the two family columns; -1 otherwise. */
function protoAt(b: Uint8Array, p: number): number {
  const at = b[p] === 105 && b[p + 1] === 112 && b[p + 2] === 118 ? (b[p + 10] === SPACE ? p + 20 : p + 21) : p + 9;

  return b[at - 1] === SPACE && b[at - 2] === SPACE || b[at - 1] === SPACE && b[p + 8] === SPACE ? at : -1;
}

/** The line without the carriage returns and spaces at its end. */
function trimEnd(b: Uint8Array, start: number, end: number): number {
  while (end > start && (b[end - 1] === 13 || b[end - 1] === SPACE)) end--;

  return end;
}

export class SessionCollector implements LineSink {
  /** Lines read that were entries, and lines that were not. */
  entries = 0;
  skipped = 0;
  private readonly found: Session[] = [];
  /** PPTP control sessions and the helper= their line printed. */
  private readonly controls = new Map<Session, string | undefined>();
  private sawHelper = false;
  /** Filled by readEntry for each VPN line: nothing allocated per line. */
  private readonly entry = scratchEntry();

  private readonly inside: InsideTest | null;

  constructor(private readonly options: CollectOptions) {
    this.inside = options.inside && insideTest(options.inside);
  }

  /** One line of text (tests, small inputs). */
  line(text: string): void {
    const bytes = new TextEncoder().encode(text);

    this.bytes(bytes, 0, bytes.length);
  }

  /** Many complete lines: b[from, to), each ending with a newline. Most of a
   * table is ordinary traffic, recognised here from two native searches and
   * a few bytes at fixed distances (see O above) without a call per line;
   * the rest is looked at closer. */
  block(b: Uint8Array, from: number, to: number): void {
    let entries = 0;

    for (let p = from; p < to; ) {
      const nl = b.indexOf(NL, p);
      const o = b.indexOf(O, p);

      if (o > p && o < nl - 17 && nl - p <= MAX_LINE) {
        // "sport=NNNNN dport=" (or four digits): the port must not be a VPN one
        let q = o + 12;

        if (b[q] !== O) q--;
        if (b[q] === O && b[q - 2] === 100) {
          const c = b[q + 4]!;

          if (c === 53 ? b[q + 5] === 48 : c === 52 ? b[q + 5] === 53 : c === 49 ? b[q + 5] === 55 : c < 48 || c > 57) this.port(b, p, nl, q);
          else entries++;
          p = nl + 1;
          continue;
        }
        // ICMP's "code=": complete when the line ends " use=N"
        if (b[o - 1] === 99 && b[o + 1] === 100 && b[nl - 1]! >= 48 && b[nl - 1]! <= 57) {
          const u = b[nl - 2] === EQ ? nl - 2 : b[nl - 3] === EQ ? nl - 3 : nl - 4;

          if (b[u] === EQ && b[u - 1] === 101 && b[u - 2] === S && b[u - 3] === 117 && b[u - 4] === SPACE) {
            entries++;
            p = nl + 1;
            continue;
          }
        }
      }
      if (nl - p > MAX_LINE) this.skipped++;
      else this.closer(b, p, nl, o);
      p = nl + 1;
    }
    this.entries += entries;
  }

  /** A line the fingerprint did not settle: a source port of other than four
   * or five digits; GRE, ESP, AH (read in full); anything unusual goes
   * through triage like a line on its own. */
  private closer(b: Uint8Array, p: number, nl: number, o: number): void {
    if (o > p && o < nl && b[o - 2] === S && b[o - 1] === 112) {
      const q = b.indexOf(O, o + 1);

      if (q > 0 && q + 5 < nl && b[q - 2] === 100 && b[q - 1] === 112 && b[q + 3] === EQ) {
        if (!maybeVpnPort(b[q + 4]!, b[q + 5]) && digit(b[q + 4])) this.entries++;
        else this.port(b, p, nl, q);

        return;
      }
    }

    const at = protoAt(b, p);
    const c = b[at], c2 = b[at + 1];

    if (at > 0 && at + 3 < nl && b[at + 2] === SPACE && (c === 52 ? c2 === 55 : c === 53 && (c2 === 48 || c2 === 49))) { // 47 gre, 50 esp, 51 ah
      this.vpn(b, p, trimEnd(b, p, nl));

      return;
    }
    this.bytes(b, p, nl);
  }

  /** The destination port's "o" is at q: a TCP or UDP line is a VPN flow
   * by that port alone, anything else gets triage. */
  private port(b: Uint8Array, p: number, nl: number, q: number): void {
    const at = protoAt(b, p);
    const tcp = at > 0 && b[at] === 54 && b[at + 1] === SPACE;
    const udp = at > 0 && b[at] === 49 && b[at + 1] === 55 && b[at + 2] === SPACE;
    const end = trimEnd(b, p, nl);
    let k = q + 4;
    let port = 0;

    for (; k < end && digit(b[k]); k++) port = port * 10 + b[k]! - 48;
    if (!(tcp || udp) || k === q + 4 || k - q > 9 || (k < end && b[k] !== SPACE)) return this.bytes(b, p, nl);

    if (tcp ? port === 1723 : port === 500 || port === 4500 || port === 1701) this.vpn(b, p, end);
    else this.entries++;
  }

  /** One line: bytes[start, end) without its newline. */
  bytes(b: Uint8Array, start: number, end: number): void {
    while (start < end && b[start] === SPACE) start++;
    end = trimEnd(b, start, end);
    if (end === start) return;

    const look = triage(b, start, end);

    if (look === 'malformed') this.skipped++;
    if (look === 'other') this.entries++;
    if (look === 'vpn') this.vpn(b, start, end);
  }

  /** A line that may be a VPN flow, read in full. */
  private vpn(b: Uint8Array, start: number, end: number): void {
    const e = this.entry;

    if (!readEntry(b, start, end, e)) {
      this.skipped++;

      return;
    }
    this.entries++;

    // A closing TCP connection lingers (TIME_WAIT: 2 minutes): its session is over.
    if (e.proto === TCP && e.state !== null && !LIVE_TCP.has(e.state)) return;

    const kind = vpnKind(e);

    if (e.helper !== undefined) this.sawHelper = true;
    if (!kind || !outbound(e, this.inside)) return;

    const s = session(e, kind.protocol, kind.transport);

    this.found.push(s);
    if (kind.transport === 'control') this.controls.set(s, e.helper);
  }

  /** The sessions found. A PPTP control connection's helper is what its
   * line says when the source prints helpers, else inferred from its GRE. */
  sessions(): Session[] {
    const shown = this.options.helperShown ?? this.sawHelper;
    // GRE flows by their two ends: a control connection's call, if any.
    const helped = new Map<string, boolean>();

    if (!shown) {
      for (const g of this.found) {
        if (g.transport === 'gre') helped.set(`${g.inside} ${g.outside}`, helped.get(`${g.inside} ${g.outside}`) === true || g.helper === true);
      }
    }
    for (const [s, helper] of this.controls) {
      const gre = helped.get(`${s.inside} ${s.outside}`);

      if (shown) s.helper = helper === 'pptp';
      else if (gre !== undefined) s.helper = gre;
    }

    return sortSessions(this.found);
  }
}

const SEP = '\u0001';

/** compareSessions' order (stable), from one key per session sorted as
 * strings: on QuickJS a comparator call per comparison costs more than
 * finding the sessions. */
export function sortSessions(list: readonly Session[]): Session[] {
  // Fixed-width port (6 digits) and index (10 digits) close each key.
  // (join, not +: V8 compares a joined string fast, a concatenated one slowly)
  const keys = list.map((s, i) => [ORDER[s.protocol], s.inside, s.outside, s.transport, `${100_000 + (s.inside_port ?? 0)}${1e9 + i}`].join(SEP));

  return keys.sort().map((k) => list[Number(k.slice(-10)) - 1e9]!);
}
