// Reads a (gzip'd) tar archive into its members, header fields included, so
// tests can check names, modes, owners and times byte by byte instead of
// trusting a tool's listing. GNU and ustar headers; long names (GNU 'L').

import { gunzipSync } from 'node:zlib';

export interface TarMember {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  type: string; // '0' file, '5' directory, ...
  uname: string;
  gname: string;
  data: Buffer;
}

const text = (b: Buffer, from: number, len: number) => b.subarray(from, from + len).toString('utf8').replace(/\0.*$/s, '');
const octal = (b: Buffer, from: number, len: number) => parseInt(text(b, from, len).trim() || '0', 8);

export function readTar(archive: Buffer): TarMember[] {
  const buf = archive[0] === 0x1f && archive[1] === 0x8b ? gunzipSync(archive) : archive;
  const members: TarMember[] = [];
  let longName: string | undefined;

  for (let off = 0; off + 512 <= buf.length; ) {
    const header = buf.subarray(off, off + 512);

    if (header.every((byte) => byte === 0)) break;

    const size = octal(header, 124, 12);
    const type = text(header, 156, 1) || '0';
    const data = buf.subarray(off + 512, off + 512 + size);

    off += 512 + Math.ceil(size / 512) * 512;

    if (type === 'L') {
      longName = data.toString('utf8').replace(/\0.*$/s, '');
      continue;
    }

    const prefix = text(header, 345, 155);
    const name = longName ?? (prefix && text(header, 257, 6) === 'ustar' ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100));

    longName = undefined;
    members.push({
      name,
      mode: octal(header, 100, 8),
      uid: octal(header, 108, 8),
      gid: octal(header, 116, 8),
      size,
      mtime: octal(header, 136, 12),
      type,
      uname: text(header, 265, 32),
      gname: text(header, 297, 32),
      data: Buffer.from(data),
    });
  }

  return members;
}

export function member(members: TarMember[], name: string): TarMember {
  const found = members.find((m) => m.name === name);

  if (!found) throw new Error(`archive has no member ${name}; it has ${members.map((m) => m.name).join(', ')}`);

  return found;
}
