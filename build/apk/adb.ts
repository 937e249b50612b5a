// Writes the ADB format of apk-tools v3, byte for byte as apk-tools 3.0.5
// does (src/adb.c, adb.h):
// - a value is 32 bits: a 4-bit type and a 28-bit payload, either the value
//   itself (small integers, null) or the offset of its data in the ADB block;
// - blobs are length-prefixed (8, 16 or 32 bits, aligned to that size),
//   32/64-bit integers and objects are aligned to 4; objects and arrays are
//   [count, value...] with trailing nulls dropped;
// - apk writes each distinct piece of data once: writing bytes it has already
//   written, at a suitable alignment, returns the earlier offset;
// - a file is "ADB." + schema, then blocks (ADB, SIG, DATA...), each with a
//   32-bit type/size header and padded to 8 bytes.

export type Val = number;

export const TYPE_SPECIAL = 0x00000000;
export const TYPE_INT = 0x10000000;
export const TYPE_INT_32 = 0x20000000;
export const TYPE_INT_64 = 0x30000000;
export const TYPE_BLOB_8 = 0x80000000;
export const TYPE_BLOB_16 = 0x90000000;
export const TYPE_BLOB_32 = 0xa0000000;
export const TYPE_ARRAY = 0xd0000000;
export const TYPE_OBJECT = 0xe0000000;
export const TYPE_MASK = 0xf0000000;
export const VALUE_MASK = 0x0fffffff;
export const NULL: Val = 0;

export const BLOCK_ADB = 0;
export const BLOCK_SIG = 1;
export const BLOCK_DATA = 2;
export const BLOCK_EXT = 3;
export const BLOCK_ALIGNMENT = 8;

/** Size of the header at the start of the ADB block: compat and format version, reserved, root value. */
export const HEADER_SIZE = 8;

const val = (type: number, value: number): Val => (type | value) >>> 0;

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);

  new DataView(b.buffer).setUint32(0, n >>> 0, true);

  return b;
}

export class AdbWriter {
  private buf = new Uint8Array(8192);
  private len = 0;
  // What has been written, by content: apk's hash buckets behave as this map
  // (an entry found at a wrong alignment is replaced by the new copy).
  private readonly written = new Map<string, number>();

  constructor() {
    this.raw([new Uint8Array(HEADER_SIZE)], HEADER_SIZE);
  }

  /** Pads to the alignment with zeros, appends the parts, returns their offset. */
  private raw(parts: Uint8Array[], alignment: number): number {
    const pad = (alignment - (this.len % alignment)) % alignment;
    const size = parts.reduce((n, p) => n + p.length, 0);

    while (this.len + pad + size > this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);

      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.len += pad;

    const offset = this.len;

    for (const p of parts) {
      this.buf.set(p, this.len);
      this.len += p.length;
    }
    if (offset > VALUE_MASK) throw new Error('ADB block larger than 256 MiB');

    return offset;
  }

  /** Appends the parts unless the same bytes were written before at this alignment. */
  private data(parts: Uint8Array[], alignment: number): number {
    const key = Buffer.concat(parts).toString('latin1');
    const seen = this.written.get(key);

    if (seen !== undefined && seen % alignment === 0) return seen;

    const offset = this.raw(parts, alignment);

    this.written.set(key, offset);

    return offset;
  }

  /** A blob from parts (apk's adb_w_blob_vec); empty is null. */
  blob(...parts: (Uint8Array | string)[]): Val {
    return this.blobWith(parts, true);
  }

  /** A blob that is always written anew and never reused (adb_w_blob_raw): room to fill in later. */
  blobRaw(bytes: Uint8Array): Val {
    return this.blobWith([bytes], false);
  }

  private blobWith(parts: (Uint8Array | string)[], dedupe: boolean): Val {
    const bytes = parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p));
    const size = bytes.reduce((n, p) => n + p.length, 0);
    let type: number;
    let prefix: Uint8Array;

    if (size > 0xffff) {
      type = TYPE_BLOB_32;
      prefix = u32(size);
    } else if (size > 0xff) {
      type = TYPE_BLOB_16;
      prefix = new Uint8Array([size & 0xff, size >> 8]);
    } else if (size > 0) {
      type = TYPE_BLOB_8;
      prefix = new Uint8Array([size]);
    } else {
      return NULL;
    }

    const vec = [prefix, ...bytes];

    return val(type, dedupe ? this.data(vec, prefix.length) : this.raw(vec, prefix.length));
  }

  /** An unsigned integer: inline below 2^28, else 32 or 64 bits of data. */
  int(n: number | bigint): Val {
    const v = BigInt(n);

    if (v < 0n) throw new Error(`ADB integers are unsigned: ${n}`);
    if (v >= 0x100000000n) {
      const b = new Uint8Array(8);

      new DataView(b.buffer).setBigUint64(0, v, true);

      return val(TYPE_INT_64, this.data([b], 4));
    }
    if (v >= 0x10000000n) return val(TYPE_INT_32, this.data([u32(Number(v))], 4));

    return val(TYPE_INT, Number(v));
  }

  /** An object or array from its values (values[0] is field 1); trailing nulls are dropped, none at all is null. */
  object(values: Val[], type: number = TYPE_OBJECT): Val {
    let n = values.length;

    while (n > 0 && values[n - 1] === NULL) n--;
    if (n === 0) return NULL;

    const b = new Uint8Array(4 * (n + 1));
    const view = new DataView(b.buffer);

    view.setUint32(0, n + 1, true);
    values.slice(0, n).forEach((v, i) => view.setUint32(4 * (i + 1), v, true));

    return val(type, this.data([b], 4));
  }

  /** The bytes a value points at, for a caller that fills them in later (the package hash). */
  bytesOf(v: Val): Uint8Array {
    const offset = v & VALUE_MASK;

    switch ((v & TYPE_MASK) >>> 0) {
      case TYPE_BLOB_8:
        return this.buf.subarray(offset + 1, offset + 1 + this.buf[offset]!);
      default:
        throw new Error(`bytesOf: unsupported value type ${(v >>> 0).toString(16)}`);
    }
  }

  setRoot(v: Val): void {
    new DataView(this.buf.buffer).setUint32(4, v, true);
  }

  /** The ADB block's payload as written so far (a view: later writes may change it). */
  payload(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

/** "ADB." and the schema, little-endian: the start of every ADB file. */
export function fileHeader(schema: number): Uint8Array {
  return Buffer.concat([Buffer.from('ADB.', 'latin1'), u32(schema)]);
}

/** A block: type and size header, payload, zeros up to 8 bytes. */
export function block(type: number, ...payload: Uint8Array[]): Uint8Array[] {
  const length = payload.reduce((n, p) => n + p.length, 0);

  if (length > 0x3fffffff - 4) throw new Error('ADB blocks above 1 GiB (extended headers) are not supported');

  const raw = 4 + length;
  const pad = (BLOCK_ALIGNMENT - (raw % BLOCK_ALIGNMENT)) % BLOCK_ALIGNMENT;

  return [u32(type * 0x40000000 + raw), ...payload, new Uint8Array(pad)];
}
