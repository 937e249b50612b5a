// Inside-host addresses as a router owner writes them: an IPv4 or IPv6
// address, a CIDR prefix of either, or a MAC address. Parsed strictly and
// normalized (RFC 5952 for IPv6, lowercase colon-separated MACs), so what
// nft receives is exactly what was validated.

export type HostKind = 'ipv4' | 'ipv6' | 'mac';

export interface Host {
  kind: HostKind;
  /** Normalized text, as rendered into the ruleset. */
  text: string;
  /** For a prefix whose host bits were set: what the user wrote. */
  hostBitsSet?: boolean;
}

export function parseIPv4(s: string): number[] | null {
  const parts = s.split('.');

  if (parts.length !== 4) return null;
  const bytes = parts.map((p) => (/^(0|[1-9][0-9]{0,2})$/.test(p) ? Number(p) : NaN));

  return bytes.every((b) => b >= 0 && b <= 255) ? bytes : null;
}

/** 16 bytes, or null. Accepts `::` compression and a trailing dotted IPv4. */
export function parseIPv6(s: string): number[] | null {
  if (!/^[0-9A-Fa-f:.]+$/.test(s) || s.split('::').length > 2) return null;

  let text = s;

  // A trailing dotted IPv4 (::ffff:192.0.2.1) is two more hex groups.
  if (s.includes('.')) {
    const colon = s.lastIndexOf(':');
    const v4 = parseIPv4(s.slice(colon + 1));

    if (!v4) return null;
    text = `${s.slice(0, colon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }

  const group = (g: string) => (/^[0-9A-Fa-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN);
  const [head, rest] = text.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':').map(group);
  const right = rest === undefined || rest === '' ? [] : rest.split(':').map(group);
  const given = left.length + right.length;

  if ([...left, ...right].some(Number.isNaN)) return null;
  if (rest === undefined ? given !== 8 : given > 7) return null;

  const groups = [...left, ...new Array<number>(8 - given).fill(0), ...right];

  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

export function formatIPv4(bytes: readonly number[]): string {
  return bytes.join('.');
}

/** RFC 5952: lowercase, no leading zeros, the longest run (≥ 2) of zero groups as `::`. */
export function formatIPv6(bytes: readonly number[]): string {
  const groups = Array.from({ length: 8 }, (_, i) => (bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
  let best = -1;
  let bestLen = 1;

  for (let i = 0; i < 8; ) {
    let j = i;

    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }

  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');

  return best < 0 ? hex(groups) : `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
}

function maskPrefix(bytes: number[], prefix: number): { bytes: number[]; changed: boolean } {
  const masked = bytes.map((b, i) => {
    const bits = Math.max(0, Math.min(8, prefix - 8 * i));

    return b & ((0xff << (8 - bits)) & 0xff);
  });

  return { bytes: masked, changed: masked.some((b, i) => b !== bytes[i]) };
}

export function parseHost(input: string): Host | null {
  const s = input.trim();

  if (/^[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}$/.test(s)) return { kind: 'mac', text: s.toLowerCase().replaceAll('-', ':') };

  const slash = s.indexOf('/');
  const addr = slash < 0 ? s : s.slice(0, slash);
  const prefixText = slash < 0 ? undefined : s.slice(slash + 1);
  const v4 = parseIPv4(addr);
  const bytes = v4 ?? parseIPv6(addr);

  if (!bytes) return null;

  const kind: HostKind = v4 ? 'ipv4' : 'ipv6';
  const format = v4 ? formatIPv4 : formatIPv6;
  const max = v4 ? 32 : 128;

  if (prefixText === undefined) return { kind, text: format(bytes) };
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > max) return null;

  const prefix = Number(prefixText);

  if (prefix === max) return { kind, text: format(bytes) };
  const { bytes: net, changed } = maskPrefix(bytes, prefix);

  return { kind, text: `${format(net)}/${prefix}`, ...(changed ? { hostBitsSet: true } : {}) };
}
