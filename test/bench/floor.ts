// Benchmark 3's floor: the least work any classifier written in JavaScript
// must do to return the sessions of a generated table, measured on the
// same runtime as the read. Not a classifier: it is told which lines are
// VPN flows (every `every`-th, as test/sessions/generate.ts lays them out),
// trusts their layout blindly (no checks, no fallbacks, no other shapes),
// skips the few lines that cross a chunk boundary, and looks at no
// ordinary line beyond finding where it ends. For each VPN line it only
// finds the fields a Session shows, decodes them, makes the Session and
// sorts the lot as the classifier does. A real classifier does all that
// and more, so its time cannot be below this one.

import type { Session } from '../../firmware/core/model.ts';
import { sortSessions } from '../../firmware/core/sessions/classify.ts';
import { ascii } from '../../firmware/core/sessions/conntrack.ts';

const NL = 10, SP = 32, EQ = 61;

/** Digits from p up to the next space, as a number (parsed, not checked). */
function digits(b: Uint8Array, p: number): number {
  let n = 0;

  for (let c = b[p]!; c !== SP; c = b[++p]!) n = n * 10 + c - 48;

  return n;
}

/** "0x…" from p up to the next space (parsed, not checked). */
function hexDigits(b: Uint8Array, p: number): number {
  let n = 0;

  for (let c = b[p += 2]!; c !== SP; c = b[++p]!) n = n * 16 + (c <= 57 ? c - 48 : c - 87);

  return n;
}

/** The value after the next '=' from p, and where its word ends. */
let at = 0;
const value = (b: Uint8Array, p: number) => ((at = b.indexOf(EQ, p) + 1), at);

function session(b: Uint8Array, s: number): Session {
  // "ipv4     2 <name> <proto> …": the protocol number at column 20
  const proto = b[s + 20] === 54 ? 6 : (b[s + 20]! - 48) * 10 + b[s + 21]! - 48;
  let p = value(b, s + 22);

  if (proto === 47) p = value(b, value(b, p)); // GRE: "timeout=30, stream_timeout=180 " first
  let e = b.indexOf(SP, p);
  const inside = ascii(b, p, e);

  p = value(b, e);
  e = b.indexOf(SP, p);
  const outside = ascii(b, p, e);
  let sport: number | null = null, dport: number | null = null, client = 0, server = 0;

  if (proto === 6 || proto === 17) {
    sport = digits(b, value(b, e));
    dport = digits(b, value(b, at));
  } else if (proto === 47) {
    client = hexDigits(b, value(b, e));
    server = hexDigits(b, value(b, at));
  }
  const packets = digits(b, value(b, at)), bytes = digits(b, value(b, at));
  const replied = b[b.indexOf(SP, at) + 2] !== 85; // " [UNREPLIED]"

  // The reply: skip src= and dst= (and the ports), then its key and counters.
  p = value(b, value(b, at));
  let translated = 0;

  if (proto === 47) translated = hexDigits(b, value(b, value(b, p)));
  else if (proto === 6 || proto === 17) value(b, value(b, p));
  const packets2 = digits(b, value(b, at)), bytes2 = digits(b, value(b, at));
  const [protocol, transport] = proto === 6 ? ['pptp', 'control'] as const : proto === 47 ? ['pptp', 'gre'] as const
    : proto === 50 ? ['ipsec', 'esp'] as const : dport === 500 ? ['ipsec', 'ike'] as const : dport === 4500 ? ['ipsec', 'nat-t'] as const : ['l2tp', 'l2tp'] as const;

  return {
    protocol,
    inside,
    outside,
    transport,
    helper: proto === 47 ? client !== 0 : proto === 6 ? null : false,
    packets: packets + packets2,
    bytes: bytes + bytes2,
    age: null,
    inside_port: sport,
    outside_port: dport,
    call_ids: proto === 47 ? { client: client || null, server, translated: translated || null } : null,
    replied,
  };
}

/** The sessions of a table generated with a VPN flow every `every` lines
 * (in the classifier's order, or as found with `sorted` false). */
export async function floorSessions(chunks: AsyncIterable<Uint8Array>, every: number, sorted = true): Promise<Session[]> {
  const found: Session[] = [];
  let line = 0;

  for await (const b of chunks) {
    let s = 0;

    for (let nl = b.indexOf(NL); nl >= 0; nl = b.indexOf(NL, s)) {
      // (the line that began in the last chunk is counted, not read)
      if (++line % every === 0 && s > 0) found.push(session(b, s));
      s = nl + 1;
    }
  }

  return sorted ? sortSessions(found) : found;
}
