// One line of the conntrack table → its fields. Two sources print it:
//   /proc/net/nf_conntrack:   ipv4     2 tcp      6 431999 ESTABLISHED src=… dst=… sport=… dport=… [packets=… bytes=…] [UNREPLIED] src=… … mark=0 zone=0 [delta-time=…] use=2
//   conntrack -L -o extended: the same columns, IPv6 compressed, no zone=, and helper=pptp when one is attached
//   conntrack -L:             without the two leading family columns
// The first src= opens the original direction, the second the reply.
// procfs never prints the helper; it writes IPv6 addresses in full.

export interface Tuple {
  src: string;
  dst: string;
  sport: number | null;
  dport: number | null;
  /** GRE keys (PPTP Call IDs), when the GRE tracker knows them. */
  srckey: number | null;
  dstkey: number | null;
  /** With nf_conntrack_acct on. */
  packets: number | null;
  bytes: number | null;
}

export interface Entry {
  family: 'ipv4' | 'ipv6';
  /** IP protocol number: 6 tcp, 17 udp, 47 gre, 50 esp, 51 ah... */
  proto: number;
  /** Seconds until it expires. */
  timeout: number;
  /** TCP (and SCTP, DCCP) state, e.g. ESTABLISHED. */
  state: string | null;
  original: Tuple;
  reply: Tuple;
  /** [ASSURED], [UNREPLIED], [OFFLOAD]... without the brackets. */
  flags: string[];
  /** helper=NAME as netlink prints it; undefined where it is never printed. */
  helper: string | undefined;
  /** Seconds since the flow started (delta-time=, with nf_conntrack_timestamp). */
  age: number | null;
}

const newTuple = (): Tuple => ({ src: '', dst: '', sport: null, dport: null, srckey: null, dstkey: null, packets: null, bytes: null });

const DECIMAL = /^\d+$/;
const HEX = /^0x[0-9a-fA-F]+$/;

function int(value: string): number | null {
  return DECIMAL.test(value) ? Number(value) : null;
}

/** The fields of one line, or null when it is not a conntrack entry. */
export function parseEntry(line: string): Entry | null {
  const words = line.split(' ').filter((w) => w !== '');
  let i = 0;
  let family: Entry['family'] | null = null;

  if (words[0] === 'ipv4' || words[0] === 'ipv6') {
    family = words[0];
    i = 2;
  }

  // <l4 name> <l4 number> <timeout> [STATE]
  const proto = int(words[i + 1] ?? '');
  const timeout = int(words[i + 2] ?? '');

  if (words[i] === undefined || proto === null || proto > 255 || timeout === null) return null;
  i += 3;

  const state = words[i] !== undefined && /^[A-Z_]+$/.test(words[i]!) ? words[i++]! : null;
  const original = newTuple();
  const reply = newTuple();
  const entry: Entry = { family: family ?? 'ipv4', proto, timeout, state, original, reply, flags: [], helper: undefined, age: null };
  let tuple: Tuple | null = null;
  let tuples = 0;

  for (; i < words.length; i++) {
    const word = words[i]!;

    if (word.startsWith('[') && word.endsWith(']')) {
      entry.flags.push(word.slice(1, -1));
      continue;
    }

    const eq = word.indexOf('=');

    if (eq <= 0) return null;
    const key = word.slice(0, eq);
    const value = word.slice(eq + 1);

    if (key === 'src') {
      if (++tuples > 2) return null;
      tuple = tuples === 1 ? original : reply;
      tuple.src = value;
      continue;
    }
    if (tuple === null) continue; // procfs's GRE "timeout=30, stream_timeout=180" before the tuples

    switch (key) {
      case 'dst': tuple.dst = value; break;
      case 'sport': tuple.sport = int(value); break;
      case 'dport': tuple.dport = int(value); break;
      case 'srckey': tuple.srckey = HEX.test(value) ? parseInt(value, 16) : null; break;
      case 'dstkey': tuple.dstkey = HEX.test(value) ? parseInt(value, 16) : null; break;
      case 'packets': tuple.packets = int(value); break;
      case 'bytes': tuple.bytes = int(value); break;
      case 'delta-time': entry.age = int(value); break;
      case 'helper': entry.helper = value; break;
      default: // mark=, zone=, use=, id=, secctx=, labels=...: not ours
    }
  }

  if (tuples !== 2 || !original.src || !original.dst || !reply.src || !reply.dst) return null;
  // Without the family columns (plain `conntrack -L`), the address tells.
  if (family === null && original.src.includes(':')) entry.family = 'ipv6';

  return entry;
}

// readEntry: parseEntry on the line's bytes, filling one reused Entry. The
// same rules, word by word, without decoding the line or splitting it: on
// txiki.js (QuickJS interprets, every operation counts) that is what a VPN
// line costs. Lines are ASCII as the kernel and conntrack print them; any
// other byte is read as Latin-1 where TextDecoder would read UTF-8.

const SP = 32, EQ = 61, OPEN = 91, CLOSE = 93;

/** An Entry for readEntry to fill again and again. */
export function scratchEntry(): Entry {
  return { family: 'ipv4', proto: 0, timeout: 0, state: null, original: newTuple(), reply: newTuple(), flags: [], helper: undefined, age: null };
}

function clear(t: Tuple): void {
  t.src = t.dst = '';
  t.sport = t.dport = t.srckey = t.dstkey = t.packets = t.bytes = null;
}

const fcc = String.fromCharCode;

/** The text of b[s, e). Up to 15 bytes (an IPv4 address) without a subarray. */
export function ascii(b: Uint8Array, s: number, e: number): string {
  switch (e - s) {
    case 0: return '';
    case 7: return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!);
    case 8: return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!);
    case 9: return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!);
    case 10: return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!);
    case 11: return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!);
    case 12: return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!, b[s + 11]!);
    case 13: return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!, b[s + 11]!, b[s + 12]!);
    case 14: return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!, b[s + 11]!, b[s + 12]!, b[s + 13]!);
    case 15: return fcc(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!, b[s + 11]!, b[s + 12]!, b[s + 13]!, b[s + 14]!);
    default: return fcc.apply(null, b.subarray(s, e) as unknown as number[]);
  }
}

/** /^\d+$/ read as a number, else null. */
function decimal(b: Uint8Array, s: number, e: number): number | null {
  if (e <= s) return null;
  if (e - s > 15) return DECIMAL.test(ascii(b, s, e)) ? Number(ascii(b, s, e)) : null; // past exact doubles: round as Number() does
  let n = 0;

  for (let i = s; i < e; i++) {
    const d = b[i]! - 48;

    if (d < 0 || d > 9) return null;
    n = n * 10 + d;
  }

  return n;
}

/** /^0x[0-9a-fA-F]+$/ read as a number, else null. */
function hex(b: Uint8Array, s: number, e: number): number | null {
  if (e - s < 3 || b[s] !== 48 || b[s + 1] !== 120) return null;
  if (e - s > 15) return HEX.test(ascii(b, s, e)) ? parseInt(ascii(b, s, e), 16) : null;
  let n = 0;

  for (let i = s + 2; i < e; i++) {
    const c = b[i]!;
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;

    if (d < 0) return null;
    n = n * 16 + d;
  }

  return n;
}

/** Words that come back on every line, each kept as one string: a state or
 * a flag is told by its first letter and length, then checked whole. */
const WORDS = new Map<number, string>(['ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'TIME_WAIT', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSE', 'ASSURED', 'UNREPLIED', 'OFFLOAD', 'HW_OFFLOAD']
  .map((w) => [w.charCodeAt(0) * 64 + w.charCodeAt(w.length - 1) * 4096 + w.length, w]));

function word(b: Uint8Array, s: number, e: number): string {
  const known = WORDS.get(b[s]! * 64 + b[e - 1]! * 4096 + (e - s));

  if (known !== undefined) {
    let i = 1;

    while (i < e - s && known.charCodeAt(i) === b[s + i]) i++;
    if (i === e - s) return known;
  }

  return ascii(b, s, e);
}

/** Fills `e` with the fields of the line b[start, end) and says true, or
 * false where parseEntry would return null. Decodes what the sessions use:
 * the reply direction's ports and srckey stay null. */
export function readEntry(b: Uint8Array, start: number, end: number, e: Entry): boolean {
  const o = e.original, r = e.reply;
  let p = start;
  let family: Entry['family'] | null = null;

  clear(o);
  clear(r);
  e.flags.length = 0;
  e.helper = undefined;
  e.age = null;
  e.state = null;

  // [family, number], l4 name, l4 number, timeout
  for (let n = 0; n < 5; n++) {
    while (p < end && b[p] === SP) p++;
    if (p >= end) return false;
    const ws = p;
    let we = b.indexOf(SP, p);

    if (we < 0 || we > end) we = end;
    p = we;
    if (n === 0) {
      if (we - ws === 4 && b[ws] === 105 && b[ws + 1] === 112 && b[ws + 2] === 118 && (b[ws + 3] === 52 || b[ws + 3] === 54)) family = b[ws + 3] === 52 ? 'ipv4' : 'ipv6';
      else n = 2; // this was the l4 name
    } else if (n === 3) {
      const proto = decimal(b, ws, we);

      if (proto === null || proto > 255) return false;
      e.proto = proto;
    } else if (n === 4) {
      const timeout = decimal(b, ws, we);

      if (timeout === null) return false;
      e.timeout = timeout;
    }
  }
  e.family = family ?? 'ipv4';

  let tuple: Tuple | null = null;
  let tuples = 0;

  // [STATE] right after the timeout: /^[A-Z_]+$/
  while (p < end && b[p] === SP) p++;
  if (p < end) {
    let we = b.indexOf(SP, p);

    if (we < 0 || we > end) we = end;
    let i = p;

    while (i < we && ((b[i]! >= 65 && b[i]! <= 90) || b[i] === 95)) i++;
    if (i === we) {
      e.state = word(b, p, we);
      p = we;
    }
  }

  while (p < end) {
    // Words are one space apart, but for the padding of the first columns.
    if (b[p] === SP && b[++p] === SP) while (p < end && b[p] === SP) p++;
    if (p >= end) break;
    const ws = p;
    let we = b.indexOf(SP, p);

    if (we < 0 || we > end) we = end;
    p = we;

    const c = b[ws]!;

    if (c === OPEN && b[we - 1] === CLOSE && we - ws >= 2) {
      e.flags.push(word(b, ws + 1, we - 1));
      continue;
    }

    // key=value: the key is what comes before the first '='
    const eq = c === EQ ? ws : b.indexOf(EQ, ws);

    if (eq <= ws || eq >= we) return false;
    const k = eq - ws;

    if (c === 115) { // s: src, sport, srckey
      const c1 = b[ws + 1];

      if (k === 3 && c1 === 114 && b[ws + 2] === 99) {
        if (++tuples > 2) return false;
        tuple = tuples === 1 ? o : r;
        tuple.src = ascii(b, eq + 1, we);
      } else if (tuple === o) {
        if (k === 5 && c1 === 112 && b[ws + 2] === 111 && b[ws + 3] === 114 && b[ws + 4] === 116) o.sport = decimal(b, eq + 1, we);
        else if (k === 6 && c1 === 114 && b[ws + 2] === 99 && b[ws + 3] === 107 && b[ws + 4] === 101 && b[ws + 5] === 121) o.srckey = hex(b, eq + 1, we);
      }
      continue;
    }
    if (tuple === null) continue; // procfs's GRE "timeout=30, stream_timeout=180" before the tuples

    if (c === 100) { // d: dst, dport, dstkey, delta-time
      const c1 = b[ws + 1];

      if (k === 3 && c1 === 115 && b[ws + 2] === 116) tuple.dst = ascii(b, eq + 1, we);
      else if (k === 5 && tuple === o && c1 === 112 && b[ws + 2] === 111 && b[ws + 3] === 114 && b[ws + 4] === 116) o.dport = decimal(b, eq + 1, we);
      else if (k === 6 && c1 === 115 && b[ws + 2] === 116 && b[ws + 3] === 107 && b[ws + 4] === 101 && b[ws + 5] === 121) tuple.dstkey = hex(b, eq + 1, we);
      else if (k === 10 && c1 === 101 && b[ws + 2] === 108 && b[ws + 3] === 116 && b[ws + 4] === 97 && b[ws + 5] === 45 && b[ws + 6] === 116 && b[ws + 7] === 105 && b[ws + 8] === 109 && b[ws + 9] === 101) e.age = decimal(b, eq + 1, we);
    } else if (c === 112) { // packets
      if (k === 7 && b[ws + 1] === 97 && b[ws + 2] === 99 && b[ws + 3] === 107 && b[ws + 4] === 101 && b[ws + 5] === 116 && b[ws + 6] === 115) tuple.packets = decimal(b, eq + 1, we);
    } else if (c === 98) { // bytes
      if (k === 5 && b[ws + 1] === 121 && b[ws + 2] === 116 && b[ws + 3] === 101 && b[ws + 4] === 115) tuple.bytes = decimal(b, eq + 1, we);
    } else if (c === 104) { // helper
      if (k === 6 && b[ws + 1] === 101 && b[ws + 2] === 108 && b[ws + 3] === 112 && b[ws + 4] === 101 && b[ws + 5] === 114) e.helper = ascii(b, eq + 1, we);
    } // mark=, zone=, use=, id=, secctx=, labels=...: not ours
  }

  if (tuples !== 2 || !o.src || !o.dst || !r.src || !r.dst) return false;
  if (family === null && o.src.includes(':')) e.family = 'ipv6';

  return true;
}
