// Reads an apk-tools v3 package (ADB format, see adb.ts) back into plain
// data, checking what apk checks before it installs: the header and schema,
// the block order, every value inside the ADB block, each DATA block's file
// against its SHA-256, and the package's own hash. The tests use it to see
// our packages as apk will.

import { createHash } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';

import { BLOCK_ADB, BLOCK_DATA, BLOCK_EXT, BLOCK_SIG, HEADER_SIZE, TYPE_ARRAY, TYPE_BLOB_16, TYPE_BLOB_32, TYPE_BLOB_8, TYPE_INT, TYPE_INT_32, TYPE_INT_64, TYPE_MASK, TYPE_OBJECT, TYPE_SPECIAL, VALUE_MASK } from './adb.ts';
import { DEPENDENCY, fieldIndex, PACKAGE, SCHEMA_PACKAGE, VERSION_CONFLICT, VERSION_EQUAL, VERSION_FUZZY, VERSION_GREATER, VERSION_LESS, type Kind, type Schema, type ScriptName } from './schema.ts';

export type Field = string | number | Field[] | { [name: string]: Field };

export interface ApkFile {
  name: string;
  acl: { mode: number; user: string; group: string };
  size: number;
  mtime?: number;
  hash?: string;
  target?: string;
}

export interface ApkDir {
  /** '' for the package root. */
  name: string;
  acl: { mode: number; user: string; group: string };
  files: ApkFile[];
}

export interface ApkPackage {
  /** 'deflate' ("ADBd") or 'none' ("ADB."). */
  compression: 'deflate' | 'none';
  /** The uncompressed file ("ADB." ...). */
  raw: Buffer;
  /** The ADB block's payload. */
  adb: Buffer;
  info: { [name: string]: Field };
  paths: ApkDir[];
  scripts: Partial<Record<ScriptName, string>>;
  /** File contents by path without the leading slash, from the DATA blocks. */
  data: Map<string, Buffer>;
  signatures: number;
}

class Reader {
  constructor(private readonly adb: Buffer) {}

  private at(v: number, size: number, align: number): number {
    const offset = v & VALUE_MASK;

    if (offset % align !== 0 || offset + size > this.adb.length) throw new Error(`value ${(v >>> 0).toString(16)} points outside the ADB block or is misaligned`);

    return offset;
  }

  blob(v: number): Buffer | undefined {
    const type = (v & TYPE_MASK) >>> 0;

    if (type === TYPE_SPECIAL) return undefined;

    const [width, len] =
      type === TYPE_BLOB_8 ? [1, this.adb[this.at(v, 1, 1)]!] : type === TYPE_BLOB_16 ? [2, this.adb.readUInt16LE(this.at(v, 2, 2))] : type === TYPE_BLOB_32 ? [4, this.adb.readUInt32LE(this.at(v, 4, 4))] : [0, -1];

    if (len < 0) throw new Error(`expected a blob, found value ${(v >>> 0).toString(16)}`);
    const start = this.at(v, width + len, width) + width;

    return this.adb.subarray(start, start + len);
  }

  int(v: number): number | undefined {
    const type = (v & TYPE_MASK) >>> 0;

    if (type === TYPE_SPECIAL) return undefined;
    if (type === TYPE_INT) return v & VALUE_MASK;
    if (type === TYPE_INT_32) return this.adb.readUInt32LE(this.at(v, 4, 4));
    if (type === TYPE_INT_64) return Number(this.adb.readBigUInt64LE(this.at(v, 8, 4)));
    throw new Error(`expected an integer, found value ${(v >>> 0).toString(16)}`);
  }

  /** The values of an object or array, [field 1, field 2, ...]. */
  values(v: number): number[] {
    const type = (v & TYPE_MASK) >>> 0;

    if (type === TYPE_SPECIAL) return [];
    if (type !== TYPE_OBJECT && type !== TYPE_ARRAY) throw new Error(`expected an object, found value ${(v >>> 0).toString(16)}`);

    const offset = this.at(v, 4, 4);
    const n = this.adb.readUInt32LE(offset);

    this.at(v, 4 * n, 4);

    return Array.from({ length: n - 1 }, (_, i) => this.adb.readUInt32LE(offset + 4 * (i + 1)));
  }

  field(kind: Kind, v: number): Field | undefined {
    if (typeof kind === 'object') {
      if ('object' in kind) return kind.object === DEPENDENCY ? this.dependency(v) : this.object(kind.object, v);

      const items = this.values(v).map((item) => this.field(kind.array, item)!);

      return items.length > 0 ? items : undefined;
    }
    switch (kind) {
      case 'string':
      case 'version':
        return this.blob(v)?.toString('utf8');
      case 'hex':
        return this.blob(v)?.toString('hex');
      default:
        return this.int(v);
    }
  }

  object(schema: Schema, v: number): { [name: string]: Field } {
    const out: { [name: string]: Field } = {};
    const values = this.values(v);

    if (values.length > schema.fields.length) throw new Error(`${schema.name}: ${values.length} fields, the schema has ${schema.fields.length}`);
    values.forEach((value, i) => {
      const [name, kind] = schema.fields[i]!;
      const f = this.field(kind, value);

      if (f !== undefined) out[name] = f;
    });

    return out;
  }

  /** A dependency as apk prints it: name, or [!]name<op>version. */
  private dependency(v: number): string {
    const d = this.object(DEPENDENCY, v);
    const op = (d.match as number | undefined) ?? VERSION_EQUAL;
    const bang = op & VERSION_CONFLICT ? '!' : '';

    if (d.version === undefined) return `${bang}${d.name}`;

    const ops: Record<number, string> = {
      [VERSION_LESS]: '<',
      [VERSION_LESS | VERSION_EQUAL]: '<=',
      [VERSION_EQUAL]: '=',
      [VERSION_EQUAL | VERSION_FUZZY]: '~',
      [VERSION_GREATER]: '>',
      [VERSION_GREATER | VERSION_EQUAL]: '>=',
      [VERSION_LESS | VERSION_GREATER]: '><',
    };

    return `${bang}${d.name}${ops[op & ~VERSION_CONFLICT] ?? '?'}${d.version}`;
  }
}

/** Decompresses and splits a package into blocks, then decodes and checks it. */
export function readApk(file: Uint8Array): ApkPackage {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  const magic = buf.subarray(0, 4).toString('latin1');
  let raw: Buffer;

  if (magic === 'ADBd') raw = inflateRawSync(buf.subarray(4));
  else if (magic === 'ADB.') raw = buf;
  else throw new Error(`not an apk v3 package: starts with ${JSON.stringify(magic)}`);
  if (raw.subarray(0, 4).toString('latin1') !== 'ADB.') throw new Error('inflated data does not start with ADB.');
  if (raw.readUInt32LE(4) !== SCHEMA_PACKAGE) throw new Error(`schema ${raw.readUInt32LE(4).toString(16)} is not a package ("pckg")`);

  let adb: Buffer | undefined;
  let signatures = 0;
  const dataBlocks: { path: number; file: number; content: Buffer }[] = [];

  for (let pos = 8; pos < raw.length; ) {
    const head = raw.readUInt32LE(pos);
    const type = head >>> 30;
    const size = head & 0x3fffffff;

    if (type === BLOCK_EXT) throw new Error('extended blocks are not expected in a package');
    if (size < 4 || pos + size > raw.length) throw new Error(`block at ${pos} overruns the file`);

    const payload = raw.subarray(pos + 4, pos + size);

    if (type === BLOCK_ADB) {
      if (adb || pos !== 8) throw new Error('the ADB block must come first, once');
      adb = payload;
    } else if (type === BLOCK_SIG) {
      if (!adb || dataBlocks.length > 0) throw new Error('a signature must follow the ADB block');
      signatures++;
    } else if (type === BLOCK_DATA) {
      if (!adb) throw new Error('data before the ADB block');
      dataBlocks.push({ path: payload.readUInt32LE(0), file: payload.readUInt32LE(4), content: payload.subarray(8) });
    }
    const padded = pos + Math.ceil(size / 8) * 8;

    if (padded > raw.length || raw.subarray(pos + size, padded).some((b) => b !== 0)) throw new Error(`block at ${pos}: padding missing or not zero`);
    pos = padded;
  }
  if (!adb) throw new Error('no ADB block');
  if (adb.length < HEADER_SIZE || adb[0] !== 0) throw new Error('ADB header: unknown compat version');

  const r = new Reader(adb);
  const root = r.object(PACKAGE, adb.readUInt32LE(4));
  const info = (root.info ?? {}) as ApkPackage['info'];
  const paths = ((root.paths ?? []) as unknown as ApkDir[]).map((d) => ({ ...d, name: d.name ?? '', files: d.files ?? [] }));
  const data = new Map<string, Buffer>();

  for (const b of dataBlocks) {
    const dir = paths[b.path - 1];
    const f = dir?.files[b.file - 1];

    if (!dir || !f) throw new Error(`data block for path ${b.path} file ${b.file}: no such file`);

    const path = dir.name ? `${dir.name}/${f.name}` : f.name;

    if (b.content.length !== f.size) throw new Error(`${path}: ${b.content.length} bytes of data, ${f.size} in the index`);
    if (createHash('sha256').update(b.content).digest('hex') !== f.hash) throw new Error(`${path}: content does not match its hash`);
    data.set(path, b.content);
  }
  for (const d of paths) {
    for (const f of d.files) {
      const path = d.name ? `${d.name}/${f.name}` : f.name;

      if (f.target === undefined && f.size > 0 && !data.has(path)) throw new Error(`${path}: no data block`);
    }
  }

  // The package hash: SHA-256 of the ADB block with its own 20 bytes zeroed.
  const hashVal = r.values(r.values(adb.readUInt32LE(4))[fieldIndex(PACKAGE, 'info') - 1]!)[2];
  const hashBytes = hashVal === undefined ? undefined : r.blob(hashVal);

  if (!hashBytes || hashBytes.length !== 20) throw new Error('info.hashes: missing or not 20 bytes');

  const zeroed = Buffer.from(adb);

  zeroed.fill(0, hashBytes.byteOffset - adb.byteOffset, hashBytes.byteOffset - adb.byteOffset + 20);
  if (!createHash('sha256').update(zeroed).digest().subarray(0, 20).equals(hashBytes)) throw new Error('info.hashes does not match the ADB block');

  return {
    compression: magic === 'ADBd' ? 'deflate' : 'none',
    raw,
    adb,
    info,
    paths,
    scripts: (root.scripts ?? {}) as ApkPackage['scripts'],
    data,
    signatures,
  };
}
