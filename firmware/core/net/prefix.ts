// Address prefixes as bytes, to ask "is this address in that network?":
// the inside networks a VPN server must live in, the sources an allow list
// names, the addresses a local socket is bound to.

import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './addr.ts';

export interface Prefix {
  family: 4 | 6;
  /** The network's bytes (host bits cleared). */
  bytes: number[];
  length: number;
}

function mask(bytes: readonly number[], length: number): number[] {
  return bytes.map((b, i) => b & ((0xff << (8 - Math.max(0, Math.min(8, length - 8 * i)))) & 0xff));
}

/** "192.168.1.1/24", "fd00::/60", or a bare address (a /32 or /128). */
export function parsePrefix(text: string): Prefix | null {
  const [addr, len, extra] = text.trim().split('/');

  if (extra !== undefined || addr === undefined) return null;
  const v4 = parseIPv4(addr);
  const bytes = v4 ?? parseIPv6(addr);

  if (!bytes) return null;
  const max = v4 ? 32 : 128;
  const length = len === undefined ? max : /^(0|[1-9][0-9]{0,2})$/.test(len) ? Number(len) : NaN;

  if (!(length >= 0 && length <= max)) return null;

  return { family: v4 ? 4 : 6, bytes: mask(bytes, length), length };
}

/** An address with a dotted netmask ("255.255.255.0") or a prefix length. */
export function prefixFromMask(address: string, netmask: string | number): Prefix | null {
  if (typeof netmask === 'number' || /^\d+$/.test(netmask)) return parsePrefix(`${address}/${netmask}`);
  const m = parseIPv4(netmask);

  if (!m) return null;
  const bits = m.map((b) => b.toString(2).padStart(8, '0')).join('');

  return /^1*0*$/.test(bits) ? parsePrefix(`${address}/${bits.indexOf('0') < 0 ? 32 : bits.indexOf('0')}`) : null;
}

export function contains(prefix: Prefix, address: readonly number[]): boolean {
  if (address.length !== prefix.bytes.length) return false;
  const masked = mask(address, prefix.length);

  return masked.every((b, i) => b === prefix.bytes[i]);
}

/** The address bytes of a normalized IPv4 or IPv6 address text. */
export function addressBytes(text: string): number[] | null {
  return parseIPv4(text) ?? parseIPv6(text);
}

export function formatPrefix(p: Prefix): string {
  return `${p.family === 4 ? formatIPv4(p.bytes) : formatIPv6(p.bytes)}/${p.length}`;
}

/** The lowest and highest address of an IPv4 prefix shorter than /31: the
 * network and broadcast addresses, which no host may have. */
export function reservedIPv4(p: Prefix, address: readonly number[]): boolean {
  if (p.family !== 4 || p.length >= 31) return false;
  const hostBits = address.map((b, i) => b & ~(mask([0xff, 0xff, 0xff, 0xff], p.length)[i]!) & 0xff);
  const all = hostBits.every((b, i) => b === (~mask([0xff, 0xff, 0xff, 0xff], p.length)[i]! & 0xff));

  return hostBits.every((b) => b === 0) || all;
}
