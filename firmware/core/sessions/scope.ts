// Which addresses are inside: the prefixes routed to the inside devices,
// read from the kernel's route tables (/proc/net/route, /proc/net/ipv6_route;
// both name the device of each route). A flow is a passthrough session when
// an inside address starts it towards an address that is not inside.

import { formatIPv6, parseIPv4, parseIPv6 } from '../net/addr.ts';

export interface Prefix {
  /** 4 or 16 bytes. */
  bytes: number[];
  length: number;
}

/** Device names as in our ruleset: exact, or `name*` for a prefix of names. */
export function deviceMatches(device: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => (p.endsWith('*') ? device.startsWith(p.slice(0, -1)) : device === p));
}

/** /proc/net/route: "Iface Destination Gateway Flags ... Mask ...", addresses in little-endian hex. */
export function ipv4Routes(text: string, devices: readonly string[]): Prefix[] {
  const prefixes: Prefix[] = [];

  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);

    if (f.length < 8 || !deviceMatches(f[0]!, devices) || !/^[0-9A-Fa-f]{8}$/.test(f[1]!) || !/^[0-9A-Fa-f]{8}$/.test(f[7]!)) continue;
    const le = (hex: string) => [6, 4, 2, 0].map((at) => parseInt(hex.slice(at, at + 2), 16));
    const mask = le(f[7]!);
    const length = mask.reduce((n, b) => n + (b.toString(2).match(/1/g)?.length ?? 0), 0);

    // A default route through an inside device would make everything inside.
    if (length > 0) prefixes.push({ bytes: le(f[1]!), length });
  }

  return prefixes;
}

/** /proc/net/ipv6_route: "dest len src srclen next-hop metric refcnt use flags device". */
export function ipv6Routes(text: string, devices: readonly string[]): Prefix[] {
  const prefixes: Prefix[] = [];

  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);

    if (f.length < 10 || !deviceMatches(f[9]!, devices) || !/^[0-9a-fA-F]{32}$/.test(f[0]!)) continue;
    const bytes = Array.from({ length: 16 }, (_, i) => parseInt(f[0]!.slice(2 * i, 2 * i + 2), 16));
    const length = parseInt(f[1]!, 16);

    // Link-local and multicast routes exist on every device: they say nothing.
    if (length === 0 || bytes[0] === 0xff || (bytes[0] === 0xfe && (bytes[1]! & 0xc0) === 0x80)) continue;
    prefixes.push({ bytes, length });
  }

  return prefixes;
}

export function addressBytes(address: string): number[] | null {
  return address.includes(':') ? parseIPv6(address) : parseIPv4(address);
}

export function contains(prefixes: readonly Prefix[], bytes: readonly number[]): boolean {
  return prefixes.some((p) => {
    if (p.bytes.length !== bytes.length) return false;
    for (let bit = 0; bit < p.length; bit += 8) {
      const n = Math.min(8, p.length - bit);
      const mask = (0xff << (8 - n)) & 0xff;

      if ((p.bytes[bit / 8]! & mask) !== (bytes[bit / 8]! & mask)) return false;
    }

    return true;
  });
}

/** Is an address inside (null: it does not parse)? */
export type InsideTest = (address: string) => boolean | null;

/** contains(prefixes, addressBytes(normalizeAddress(a))) for address after
 * address, as the sessions need it: an IPv4 address read as one number and
 * masked, with no array made for it, and each address read once (on
 * txiki.js the arrays added nearly half to a VPN line's cost); IPv6 as bytes. */
export function insideTest(prefixes: readonly Prefix[]): InsideTest {
  const v4 = prefixes.filter((p) => p.bytes.length === 4).map((p) => {
    const mask = p.length === 0 ? 0 : (-1 << (32 - Math.min(32, p.length))) >>> 0;

    return { net: (((p.bytes[0]! << 24) | (p.bytes[1]! << 16) | (p.bytes[2]! << 8) | p.bytes[3]!) & mask) >>> 0, mask };
  });

  const test = (address: string): boolean | null => {
    if (address.includes(':')) {
      const bytes = parseIPv6(address);

      return bytes && contains(prefixes, bytes);
    }
    const n = ipv4Number(address);

    if (n < 0) return null;
    for (const p of v4) if (((n & p.mask) >>> 0) === p.net) return true;

    return false;
  };
  // A table names the same few hosts and servers again and again.
  const seen = new Map<string, boolean | null>();

  return (address) => {
    let known = seen.get(address);

    if (known === undefined) {
      known = test(address);
      if (seen.size >= 4096) seen.clear();
      seen.set(address, known);
    }

    return known;
  };
}

/** A dotted quad as parseIPv4 reads it ("0" or no leading zero, each part
 * up to 255), as a number; -1 for anything else. */
export function ipv4Number(s: string): number {
  let n = 0, part = 0, digits = 0, dots = 0;

  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);

    if (c === 46) {
      if (digits === 0 || part > 255 || ++dots > 3) return -1;
      n = n * 256 + part;
      part = digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3 && !(digits === 1 && part === 0)) {
      part = part * 10 + c - 48;
      digits++;
    } else {
      return -1;
    }
  }

  return dots === 3 && digits > 0 && part <= 255 ? n * 256 + part : -1;
}

/** An address as the rest of the program writes it (IPv6 per RFC 5952;
 * procfs prints every IPv6 group in full). */
export function normalizeAddress(address: string): string {
  if (!address.includes(':')) return address;
  const bytes = parseIPv6(address);

  return bytes ? formatIPv6(bytes) : address;
}
