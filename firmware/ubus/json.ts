// Fields as text, character for character what libubox's blobmsg_format_json
// (blobmsg_json.c) prints, so our tools print ubus data the way the `ubus` CLI
// does: tabs and ": " when indenting, no spaces otherwise, int8 as
// true/false, doubles as printf("%lf"), strings escaped like C does.

import type { Field } from './blobmsg.ts';

export interface FormatOptions {
  /** Starting indent level for pretty output; leave out for one line. */
  indent?: number;
  /** Replaces an element's value text, like blobmsg_json_format_t. */
  custom?: (field: Field) => string | undefined;
}

interface State {
  out: string[];
  indent: boolean;
  level: number;
  custom: ((field: Field) => string | undefined) | undefined;
}

function state(options: FormatOptions): State {
  const indent = options.indent !== undefined && options.indent >= 0;

  return { out: [], indent, level: indent ? options.indent! : 0, custom: options.custom };
}

function separator(s: State): void {
  // add_separator(): a newline and one tab per level, at most 16.
  if (s.indent) s.out.push('\n' + '\t'.repeat(Math.min(s.level, 16)));
}

const ESCAPES: Record<string, string> = { '\b': '\\b', '\n': '\\n', '\t': '\\t', '\r': '\\r', '"': '\\"', '\\': '\\\\' };

export function formatString(text: string): string {
  return '"' + text.replace(/[\u0000-\u001f"\\]/g, (c) => ESCAPES[c] ?? '\\u00' + c.charCodeAt(0).toString(16).padStart(2, '0')) + '"';
}

/** printf("%lf", v) exactly: six decimals, ties to even, no exponent. */
export function formatDouble(v: number): string {
  const bits = new DataView(new Float64Array([v]).buffer).getBigUint64(0, true);
  const sign = bits >> 63n ? '-' : '';

  if (Number.isNaN(v)) return sign + 'nan';
  if (!Number.isFinite(v)) return sign + 'inf';
  const expBits = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = expBits === 0 ? fraction : fraction | (1n << 52n);
  const exp = expBits === 0 ? -1074 : expBits - 1075;
  let micros: bigint; // |v| * 10^6, rounded

  if (exp >= 0) micros = (mantissa << BigInt(exp)) * 1_000_000n;
  else {
    const k = BigInt(-exp);
    const scaled = mantissa * 1_000_000n;
    const rest = scaled & ((1n << k) - 1n);
    const half = 1n << (k - 1n);

    micros = scaled >> k;
    if (rest > half || (rest === half && (micros & 1n) === 1n)) micros += 1n;
  }

  return `${sign}${micros / 1_000_000n}.${(micros % 1_000_000n).toString().padStart(6, '0')}`;
}

function element(s: State, field: Field, withoutName: boolean): void {
  if (!withoutName && field.name !== '') s.out.push(formatString(field.name), s.indent ? ': ' : ':');
  const custom = s.custom?.(field);

  if (custom !== undefined) {
    s.out.push(custom);

    return;
  }
  switch (field.type) {
    case 'unspec':
      return void s.out.push('null');
    case 'int8':
      return void s.out.push(field.value !== 0 ? 'true' : 'false');
    case 'int16':
    case 'int32':
    case 'int64':
      return void s.out.push(String(field.value));
    case 'double':
      return void s.out.push(formatDouble(field.value));
    case 'string':
      return void s.out.push(formatString(field.value));
    case 'array':
    case 'table':
      return list(s, field.value, field.type === 'array');
  }
}

function list(s: State, fields: readonly Field[], array: boolean): void {
  s.out.push(array ? '[' : '{');
  s.level++;
  separator(s);
  fields.forEach((f, i) => {
    if (i > 0) {
      s.out.push(',');
      separator(s);
    }
    element(s, f, array);
  });
  s.level--;
  separator(s);
  s.out.push(array ? ']' : '}');
}

/** One field with its name: blobmsg_format_json_with_cb(attr, false, ...). */
export function formatField(field: Field, options: FormatOptions = {}): string {
  const s = state(options);

  element(s, field, false);

  return s.out.join('');
}

/** A container's fields as `{...}` (or `[...]`): blobmsg_format_json(attr, true),
 * which is how `ubus call` (indent 0) and `ubus listen` (one line) print data. */
export function formatList(fields: readonly Field[], options: FormatOptions & { array?: boolean } = {}): string {
  const s = state(options);

  list(s, fields, options.array ?? false);

  return s.out.join('');
}
