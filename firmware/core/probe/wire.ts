// Bytes for the probe codecs: building and reading big-endian fields, and
// the two ways bytes can fail. "Need more bytes" is not an error (a framer
// returns null); Malformed is for bytes that can never become the message
// (the peer on that port speaks something else).

export class Malformed extends Error {}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;

  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }

  return out;
}

export function u8(v: number): Uint8Array {
  return Uint8Array.of(v & 0xff);
}

export function u16(v: number): Uint8Array {
  return Uint8Array.of((v >>> 8) & 0xff, v & 0xff);
}

export function u32(v: number): Uint8Array {
  return Uint8Array.of((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

export function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const ascii = new TextEncoder();
const text = new TextDecoder('utf-8');

/** A text field of fixed size, padded with NULs (PPTP's host name and vendor). */
export function fixedText(value: string, size: number): Uint8Array {
  const out = new Uint8Array(size);

  out.set(ascii.encode(value).subarray(0, size));

  return out;
}

/** Text up to the first NUL; anything unprintable is shown as '?'. */
export function readText(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);

  return text.decode(end < 0 ? bytes : bytes.subarray(0, end)).replace(/[\u0000-\u001f\u007f\ufffd]/g, '?');
}

export function encodeText(value: string): Uint8Array {
  return ascii.encode(value);
}

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
