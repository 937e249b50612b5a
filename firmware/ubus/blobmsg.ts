// blobmsg (libubox blobmsg.h): typed, named values inside blob attributes.
// Each one is an extended blob_attr whose id is the blobmsg type, whose
// payload starts with {be16 namelen, name, NUL} padded to 4, then the value.
//
// A Field is the exact wire form: its type is kept, so decodeFields and
// encodeFields mirror each other byte for byte on anything libubox produces.
// value.ts turns Fields into plain JSON-like values and back.

import { concat, encodeAttr, padded, readAttrs, readCString, type BlobAttr } from './blob.ts';
import { EncodeError, MalformedError } from './errors.ts';

/** enum blobmsg_type; BLOBMSG_TYPE_BOOL is int8. */
export const BLOBMSG_TYPES = ['unspec', 'array', 'table', 'string', 'int64', 'int32', 'int16', 'int8', 'double'] as const;

export type BlobmsgType = (typeof BLOBMSG_TYPES)[number];

export type Field =
  | { name: string; type: 'unspec'; value: Uint8Array }
  | { name: string; type: 'array' | 'table'; value: Field[] }
  | { name: string; type: 'string'; value: string }
  /** Integers decode signed, as blobmsg_format_json prints them. */
  | { name: string; type: 'int8' | 'int16' | 'int32' | 'double'; value: number }
  | { name: string; type: 'int64'; value: bigint };

/** Deeper nesting than this is refused instead of exhausting the stack. */
export const MAX_DEPTH = 128;

export function typeCode(type: BlobmsgType): number {
  return BLOBMSG_TYPES.indexOf(type);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The be16 name length, the name, its NUL, zero padding to 4 bytes. */
function nameHeader(name: string): Uint8Array {
  const bytes = encoder.encode(name);

  if (bytes.includes(0)) throw new EncodeError(`blobmsg name ${JSON.stringify(name)} contains a NUL byte`);
  if (bytes.length > 0xffff) throw new EncodeError(`blobmsg name of ${bytes.length} bytes exceeds 65535`);
  const out = new Uint8Array(padded(2 + bytes.length + 1));

  new DataView(out.buffer).setUint16(0, bytes.length);
  out.set(bytes, 2);

  return out;
}

function intBytes(size: 1 | 2 | 4, value: number, field: string): Uint8Array {
  const min = -(2 ** (size * 8 - 1));
  const max = 2 ** (size * 8) - 1; // unsigned input is accepted, as blobmsg_add_u32 takes it

  if (!Number.isInteger(value) || value < min || value > max) throw new EncodeError(`${field}: ${value} is not a ${size * 8}-bit integer`);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);

  if (size === 1) view.setUint8(0, value & 0xff);
  else if (size === 2) view.setUint16(0, value & 0xffff);
  else view.setUint32(0, value >>> 0);

  return out;
}

function valueBytes(field: Field, depth: number): Uint8Array {
  const where = field.name || '(unnamed)';

  switch (field.type) {
    case 'unspec':
      return field.value;
    case 'array':
    case 'table':
      if (depth >= MAX_DEPTH) throw new EncodeError(`nesting deeper than ${MAX_DEPTH}`);

      return concat(field.value.map((f) => encodeFieldAt(f, depth + 1)));
    case 'string': {
      const bytes = encoder.encode(field.value);

      if (bytes.includes(0)) throw new EncodeError(`${where}: string contains a NUL byte`);
      const out = new Uint8Array(bytes.length + 1);

      out.set(bytes);

      return out;
    }
    case 'int8':
      return intBytes(1, field.value, where);
    case 'int16':
      return intBytes(2, field.value, where);
    case 'int32':
      return intBytes(4, field.value, where);
    case 'int64': {
      const v = field.value;

      if (v < -(1n << 63n) || v >= 1n << 64n) throw new EncodeError(`${where}: ${v} is not a 64-bit integer`);
      const out = new Uint8Array(8);

      new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, v));

      return out;
    }
    case 'double': {
      const out = new Uint8Array(8);

      new DataView(out.buffer).setFloat64(0, field.value);

      return out;
    }
  }
}

function encodeFieldAt(field: Field, depth: number): Uint8Array {
  return encodeAttr(typeCode(field.type), concat([nameHeader(field.name), valueBytes(field, depth)]), true);
}

/** One field as a padded extended blob_attr. */
export function encodeField(field: Field): Uint8Array {
  return encodeFieldAt(field, 0);
}

/** Fields back to back: the payload of a table, an array or UBUS_ATTR_DATA. */
export function encodeFields(fields: readonly Field[]): Uint8Array {
  return concat(fields.map((f) => encodeFieldAt(f, 0)));
}

function fixed(data: Uint8Array, size: number, name: string, type: string): DataView {
  if (data.length !== size) throw new MalformedError(`${name || '(unnamed)'}: ${type} value has ${data.length} bytes, not ${size}`);

  return new DataView(data.buffer, data.byteOffset, size);
}

/** One blobmsg attribute, checked as blobmsg_check_attr_len() would. */
export function decodeField(attr: BlobAttr, depth = 0): Field {
  if (!attr.extended) throw new MalformedError(`blobmsg attribute (type ${attr.id}) lacks the extended bit and so its name`);
  const data = attr.data;

  if (data.length < 2) throw new MalformedError('blobmsg attribute too short for its name length');
  const nameLen = new DataView(data.buffer, data.byteOffset, 2).getUint16(0);
  const headerLen = padded(2 + nameLen + 1);

  if (data.length < headerLen) throw new MalformedError(`blobmsg name of ${nameLen} bytes overruns its attribute`);
  if (data[2 + nameLen] !== 0) throw new MalformedError('blobmsg name is not NUL-terminated');
  const raw = data.subarray(2, 2 + nameLen);
  const nul = raw.indexOf(0);
  const name = decoder.decode(nul < 0 ? raw : raw.subarray(0, nul));
  const value = data.subarray(headerLen);
  const type = BLOBMSG_TYPES[attr.id];

  switch (type) {
    case 'unspec':
      return { name, type, value: value.slice() };
    case 'array':
    case 'table':
      if (depth >= MAX_DEPTH) throw new MalformedError(`blobmsg nesting deeper than ${MAX_DEPTH}`);

      return { name, type, value: decodeFieldsAt(value, depth + 1) };
    case 'string':
      return { name, type, value: readCString(value, `blobmsg string ${name || '(unnamed)'}`) };
    case 'int8':
      return { name, type, value: fixed(value, 1, name, type).getInt8(0) };
    case 'int16':
      return { name, type, value: fixed(value, 2, name, type).getInt16(0) };
    case 'int32':
      return { name, type, value: fixed(value, 4, name, type).getInt32(0) };
    case 'int64':
      return { name, type, value: fixed(value, 8, name, type).getBigInt64(0) };
    case 'double':
      return { name, type, value: fixed(value, 8, name, type).getFloat64(0) };
    default:
      throw new MalformedError(`unknown blobmsg type ${attr.id}`);
  }
}

function decodeFieldsAt(payload: Uint8Array, depth: number): Field[] {
  return readAttrs(payload).map((attr) => decodeField(attr, depth));
}

/** The fields of a container payload, which they must fill exactly. */
export function decodeFields(payload: Uint8Array): Field[] {
  return decodeFieldsAt(payload, 0);
}
