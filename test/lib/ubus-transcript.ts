// The recorded ubusd transcripts (../shared/fixtures/ubus) and what varies
// between two runs of the same session, so a replay can vary it too:
//
// - ids ubusd draws at random (>= 1024): client ids (HELLO peer), object ids
//   (OBJID, INVOKE/NOTIFY/reply header peers, SUBSCRIBERS, TARGET, the
//   "object" of an event "register" call) and object type ids (OBJTYPE);
// - seq numbers: the client's requests count from 1 on a fresh libubus
//   context but continue after a reconnect (seqBase); INVOKE/NOTIFY seqs
//   ubusd sends carry another client's or ubusd's own counter;
// - rpcd's session id (a 32-hex string in data and on stdout).
//
// This walker is deliberately separate from firmware/ubus: it is the oracle.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { SHARED } from './fixtures.ts';

import type { Rng } from './prng.ts';

export const FIXTURES = join(SHARED, 'ubus');

export type Dir = 'S>C' | 'C>S';

export interface Line {
  dir: Dir;
  bytes: Uint8Array;
}

export function loadConn(name: string): Line[] {
  const text = readFileSync(join(FIXTURES, `${name}.txt`), 'utf8');

  return text
    .split('\n')
    .filter((l) => l.startsWith('S>C ') || l.startsWith('C>S '))
    .map((l) => ({ dir: l.slice(0, 3) as Dir, bytes: new Uint8Array(Buffer.from(l.slice(4).trim(), 'hex')) }));
}

/** Every recorded connection, e.g. "b2_call_errors.conn3". */
export function allConns(): string[] {
  return readdirSync(FIXTURES)
    .filter((f) => /\.conn\d+\.txt$/.test(f))
    .map((f) => f.replace(/\.txt$/, ''))
    .sort();
}

export function readFixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

const T = { HELLO: 0, STATUS: 1, DATA: 2, INVOKE: 5 };
const A = { OBJID: 3, METHOD: 4, OBJTYPE: 5, DATA: 7, TARGET: 8, SUBSCRIBERS: 11 };

interface RawAttr {
  id: number;
  /** Offset of the payload in the message. */
  at: number;
  len: number;
}

function attrsIn(view: DataView, start: number, end: number): RawAttr[] {
  const out: RawAttr[] = [];

  for (let off = start; off + 4 <= end; ) {
    const idLen = view.getUint32(off);
    const raw = idLen & 0xffffff;

    out.push({ id: (idLen >>> 24) & 0x7f, at: off + 4, len: raw - 4 });
    off += (raw + 3) & ~3;
  }

  return out;
}

export class Variation {
  readonly ids = new Map<number, number>();
  readonly serverSeqs = new Map<number, number>();
  private readonly used = new Set<number>();
  session: { from: string; to: string } | undefined;

  constructor(
    private readonly rng: Rng | undefined,
    /** Added to the seq of every client request and of the replies to them. */
    readonly seqBase = 0,
  ) {}

  /** Verbatim: no id changes. */
  static none(): Variation {
    return new Variation(undefined);
  }

  id(old: number): number {
    if (!this.rng || old < 1024) return old;
    let fresh = this.ids.get(old);

    if (fresh === undefined) {
      do fresh = this.rng.int(1024, 0xffffffff);
      while (this.used.has(fresh));
      this.used.add(fresh);
      this.ids.set(old, fresh);
    }

    return fresh;
  }

  serverSeq(old: number): number {
    if (!this.rng) return old;
    if (!this.serverSeqs.has(old)) this.serverSeqs.set(old, this.rng.int(0, 0xffff));

    return this.serverSeqs.get(old)!;
  }

  apply(lines: readonly Line[]): Line[] {
    return lines.map((l) => ({ dir: l.dir, bytes: this.line(l) }));
  }

  private line({ dir, bytes: original }: Line): Uint8Array {
    const b = original.slice();
    const view = new DataView(b.buffer);
    const type = b[1]!;
    const seq = view.getUint16(2);
    const reply = type === T.STATUS || type === T.DATA;

    if (type !== T.HELLO) {
      const clientSeq = dir === 'C>S' ? !reply : reply;

      view.setUint16(2, clientSeq ? (seq + this.seqBase) & 0xffff : this.serverSeq(seq));
    }
    view.setUint32(4, this.id(view.getUint32(4)));
    const top = attrsIn(view, 12, 8 + (view.getUint32(8) & 0xffffff));
    const method = top.find((a) => a.id === A.METHOD);
    const objid = top.find((a) => a.id === A.OBJID);
    const isRegister =
      type === T.INVOKE && objid && view.getUint32(objid.at) === 1 && method && Buffer.from(b.subarray(method.at, method.at + method.len)).toString() === 'register\0';

    for (const a of top) {
      if (a.id === A.OBJID || a.id === A.OBJTYPE || a.id === A.TARGET) view.setUint32(a.at, this.id(view.getUint32(a.at)));
      if (a.id === A.SUBSCRIBERS) for (const s of attrsIn(view, a.at, a.at + a.len)) view.setUint32(s.at, this.id(view.getUint32(s.at)));
      if (a.id === A.DATA && isRegister) this.registerObject(view, a);
    }
    if (this.session) replaceAscii(b, this.session.from, this.session.to);

    return b;
  }

  /** The blobmsg int32 "object" of an event registration holds an object id. */
  private registerObject(view: DataView, data: RawAttr): void {
    for (const f of attrsIn(view, data.at, data.at + data.len)) {
      const nameLen = view.getUint16(f.at);
      const name = Buffer.from(view.buffer, f.at + 2, nameLen).toString();
      const valueAt = f.at + ((2 + nameLen + 1 + 3) & ~3);

      if (name === 'object') view.setUint32(valueAt, this.id(view.getUint32(valueAt)));
    }
  }

  /** The same change applied to what the CLI printed: "@<hex id>" and the session. */
  text(s: string): string {
    let out = s.replace(/@([0-9a-f]{8})\b/g, (_, hex: string) => '@' + this.id(parseInt(hex, 16)).toString(16).padStart(8, '0'));

    if (this.session) out = out.split(this.session.from).join(this.session.to);

    return out;
  }

  /** Also swap rpcd's session id (printed, and in the data) for a fresh one. */
  withSession(from: string): this {
    if (this.rng) this.session = { from, to: Array.from({ length: from.length }, () => this.rng!.int(0, 15).toString(16)).join('') };

    return this;
  }
}

function replaceAscii(bytes: Uint8Array, from: string, to: string): void {
  const needle = Buffer.from(from);
  const hay = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);

  for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + 1)) bytes.set(Buffer.from(to), i);
}
