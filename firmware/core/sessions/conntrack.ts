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
