// blob_attr framing (libubox blob.h): a be32 header, bit 31 "extended",
// bits 24..30 the id, bits 0..23 the length including the 4-byte header,
// then the payload padded with zeros to a multiple of 4. A container's length
// counts its children with their padding, as blob_nest_end() does.

import { EncodeError, MalformedError } from './errors.ts';

export const ATTR_HEADER = 4;
const LEN_MASK = 0x00ffffff;
const EXTENDED = 0x80000000;

export interface BlobAttr {
  id: number;
  extended: boolean;
  /** The payload without padding: a view into the parsed bytes. */
  data: Uint8Array;
}

export function padded(len: number): number {
  return (len + 3) & ~3;
}

/** The attribute at `offset`, which must lie wholly (padding too) before `end`. */
export function readAttr(bytes: Uint8Array, offset: number, end = bytes.length): { attr: BlobAttr; next: number } {
  if (end - offset < ATTR_HEADER) throw new MalformedError(`blob attribute header cut short at byte ${offset}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const idLen = view.getUint32(offset);
  const rawLen = idLen & LEN_MASK;

  if (rawLen < ATTR_HEADER) throw new MalformedError(`blob attribute at byte ${offset} has length ${rawLen} < 4`);
  if (padded(rawLen) > end - offset) {
    throw new MalformedError(`blob attribute at byte ${offset} (${rawLen} bytes) overruns its container by ${padded(rawLen) - (end - offset)}`);
  }
  const attr = {
    id: (idLen >>> 24) & 0x7f,
    extended: (idLen & EXTENDED) !== 0,
    data: bytes.subarray(offset + ATTR_HEADER, offset + rawLen),
  };

  return { attr, next: offset + padded(rawLen) };
}

/** All attributes of a payload, which they must fill exactly. */
export function readAttrs(payload: Uint8Array): BlobAttr[] {
  const attrs: BlobAttr[] = [];

  for (let offset = 0; offset < payload.length; ) {
    const { attr, next } = readAttr(payload, offset);

    attrs.push(attr);
    offset = next;
  }

  return attrs;
}

/** One attribute with its padding. */
export function encodeAttr(id: number, payload: Uint8Array, extended = false): Uint8Array {
  const rawLen = ATTR_HEADER + payload.length;

  if (rawLen > LEN_MASK) throw new EncodeError(`blob attribute of ${rawLen} bytes exceeds the 24-bit length`);
  const out = new Uint8Array(padded(rawLen));

  new DataView(out.buffer).setUint32(0, ((extended ? EXTENDED : 0) | ((id & 0x7f) << 24) | rawLen) >>> 0);
  out.set(payload, ATTR_HEADER);

  return out;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;

  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;

  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }

  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A C string's bytes with its terminating NUL. */
export function cString(text: string, what: string): Uint8Array {
  const bytes = encoder.encode(text);

  if (bytes.includes(0)) throw new EncodeError(`${what} contains a NUL byte`);
  const out = new Uint8Array(bytes.length + 1);

  out.set(bytes);

  return out;
}

/** A NUL-terminated payload read as C reads it: up to the first NUL. */
export function readCString(data: Uint8Array, what: string): string {
  if (data.length === 0 || data[data.length - 1] !== 0) throw new MalformedError(`${what} is not NUL-terminated`);

  return decoder.decode(data.subarray(0, data.indexOf(0)));
}

export function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);

  new DataView(out.buffer).setUint32(0, value >>> 0);

  return out;
}

export function readU32(data: Uint8Array, what: string): number {
  if (data.length !== 4) throw new MalformedError(`${what} has ${data.length} bytes, not 4`);

  return new DataView(data.buffer, data.byteOffset, 4).getUint32(0);
}
