// The recorded exchanges of test/fixtures/probe (README there): one Packet per line.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';

import { OWN, own } from '../lib/fixtures.ts';

export interface Packet {
  dir: 'C>S' | 'S>C';
  proto: 'udp' | 'tcp';
  src: string;
  sport: number;
  dst: string;
  dport: number;
  data: Uint8Array;
  /** "file:line" for messages. */
  where: string;
}

export function recorded(name: string): Packet[] {
  return own(`probe/${name}.txt`).split('\n').flatMap((line, i) => {
    if (line === '' || line.startsWith('#')) return [];
    const [dir, proto, src, sport, dst, dport, hex] = line.split(' ');

    return [{ dir, proto, src, sport: Number(sport), dst, dport: Number(dport), data: new Uint8Array(Buffer.from(hex!, 'hex')), where: `${name}.txt:${i + 1}` } as Packet];
  });
}

export const RECORDINGS = readdirSync(join(OWN, 'probe')).filter((f) => f.endsWith('.txt')).map((f) => f.slice(0, -4)).sort();

export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
