// JSON-like values <-> blobmsg Fields, with the rules of libubox's
// blobmsg_json.c so that our values travel as the `ubus` CLI's would:
// boolean = int8, integers in int32 range = int32, other integers = int64,
// other numbers = double, null = unspec. bigint always travels as int64 and
// comes back as bigint only when a number could not hold it exactly.
// Typed (int8(), int16(), int64(), double()...) forces a wire type, e.g. a
// double whose value happens to be whole.

import type { BlobmsgType, Field } from './blobmsg.ts';
import { EncodeError } from './errors.ts';

export type Value = null | boolean | number | bigint | string | Value[] | Table | Typed;

/** A blobmsg table. Undefined entries are skipped when encoding. */
export interface Table {
  [key: string]: Value | undefined;
}

export type ScalarType = Extract<BlobmsgType, 'int8' | 'int16' | 'int32' | 'int64' | 'double'>;

/** A number with an explicit wire type. */
export class Typed {
  constructor(
    readonly type: ScalarType,
    readonly value: number | bigint,
  ) {}
}

export const int8 = (v: number): Typed => new Typed('int8', v);
export const int16 = (v: number): Typed => new Typed('int16', v);
export const int32 = (v: number): Typed => new Typed('int32', v);
export const int64 = (v: number | bigint): Typed => new Typed('int64', v);
export const double = (v: number): Typed => new Typed('double', v);

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** table[key] = value, also for the key "__proto__". */
export function setEntry(table: Table, key: string, value: Value): void {
  // A plain assignment to "__proto__" would change the prototype instead.
  if (key === '__proto__') Object.defineProperty(table, key, { value, enumerable: true, writable: true, configurable: true });
  else table[key] = value;
}

/** A field's value as plain data (unspec = null, int8 = boolean). */
export function toValue(field: Field): Value {
  switch (field.type) {
    case 'unspec':
      return null;
    case 'array':
      return field.value.map(toValue);
    case 'table':
      return toTable(field.value);
    case 'int8':
      return field.value !== 0;
    case 'int64': {
      const n = Number(field.value);

      return Number.isSafeInteger(n) ? n : field.value;
    }
    default:
      return field.value;
  }
}

/** Fields as an object; a repeated name keeps its last value. */
export function toTable(fields: readonly Field[]): Table {
  const table: Table = {};

  for (const f of fields) setEntry(table, f.name, toValue(f));

  return table;
}

function typedField(name: string, t: Typed): Field {
  if (t.type === 'int64') {
    if (typeof t.value === 'number' && !Number.isInteger(t.value)) throw new EncodeError(`${name}: ${t.value} is not an integer`);

    return { name, type: 'int64', value: BigInt(t.value) };
  }
  if (typeof t.value === 'bigint') throw new EncodeError(`${name}: a bigint cannot be sent as ${t.type}`);

  return { name, type: t.type, value: t.value };
}

/** A plain object: what encodes as a table. */
export function isTable(v: unknown): v is Table {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);

  return proto === Object.prototype || proto === null;
}

/** A value as a field named `name` (empty inside arrays). */
export function fromValue(name: string, value: Value): Field {
  if (value === null) return { name, type: 'unspec', value: new Uint8Array(0) };
  switch (typeof value) {
    case 'boolean':
      return { name, type: 'int8', value: value ? 1 : 0 };
    case 'string':
      return { name, type: 'string', value };
    case 'bigint':
      return { name, type: 'int64', value };
    case 'number':
      if (Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX) return { name, type: 'int32', value };
      if (Number.isSafeInteger(value)) return { name, type: 'int64', value: BigInt(value) };

      return { name, type: 'double', value };
    case 'object':
      if (value instanceof Typed) return typedField(name, value);
      if (Array.isArray(value)) return { name, type: 'array', value: value.map((v) => fromValue('', v)) };
      if (isTable(value)) return { name, type: 'table', value: fromTable(value) };
  }

  throw new EncodeError(`${name || '(unnamed)'}: ${Object.prototype.toString.call(value)} has no blobmsg form`);
}

/** An object's entries as fields, in the object's key order. */
export function fromTable(table: Table): Field[] {
  const fields: Field[] = [];

  for (const [key, value] of Object.entries(table)) {
    if (value !== undefined) fields.push(fromValue(key, value));
  }

  return fields;
}
