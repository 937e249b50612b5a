// What the router says about itself that a server's section is checked
// against: the inside networks (an inside server must live in one), the
// router's own addresses there, and firewall4's port forwards (`config
// redirect`) on the outside zones, which must not claim the same ports.

import type { UciPackage } from '../uci/parse.ts';
import type { Zone } from '../zones.ts';
import { parsePrefix, prefixFromMask, type Prefix } from '../net/prefix.ts';
import { memberParts, type Member } from './sets.ts';

export interface InsideNetworks {
  /** The networks of the inside zones' interfaces (IPv4 and IPv6). */
  prefixes: Prefix[];
  /** The router's own addresses on them (not a server's). */
  router: string[];
}

const words = (v: string | string[] | undefined) => (v === undefined ? [] : typeof v === 'string' ? v.split(/\s+/).filter(Boolean) : v);

/** From /etc/config/network: ipaddr (+ netmask, or CIDR; netifd takes a
 * bare address as a /32), ip6addr, and for
 * an interface with ip6assign the ULA prefix the router hands out. */
function configured(network: UciPackage, name: string): { prefixes: Prefix[]; router: string[] } {
  const section = network.sections.find((s) => s.type === 'interface' && s.name === name);
  const out = { prefixes: [] as Prefix[], router: [] as string[] };

  if (!section) return out;
  const netmask = section.options.get('netmask');

  for (const item of words(section.options.get('ipaddr'))) {
    const [addr] = item.split('/');
    const p = item.includes('/') ? parsePrefix(item) : typeof netmask === 'string' ? prefixFromMask(item, netmask) : parsePrefix(item);

    if (p) out.prefixes.push(p);
    if (addr) out.router.push(addr);
  }
  for (const item of words(section.options.get('ip6addr'))) {
    const p = parsePrefix(item);

    if (p) out.prefixes.push(p);
    out.router.push(item.split('/')[0]!);
  }
  if (section.options.has('ip6assign')) {
    const ula = network.sections.find((s) => s.type === 'globals')?.options.get('ula_prefix');
    const p = typeof ula === 'string' ? parsePrefix(ula) : null;

    if (p) out.prefixes.push(p);
  }

  return out;
}

interface Addr {
  address?: unknown;
  mask?: unknown;
  'local-address'?: { address?: unknown };
}

/** From netifd's `network.interface dump`: ipv4-address, ipv6-address,
 * ipv6-prefix-assignment (the delegated prefix handed to this interface). */
function live(dump: unknown, name: string): { prefixes: Prefix[]; router: string[] } {
  const out = { prefixes: [] as Prefix[], router: [] as string[] };
  const list = (dump as { interface?: unknown } | null)?.interface;
  const entry = Array.isArray(list) ? (list as Record<string, unknown>[]).find((e) => e.interface === name) : undefined;

  if (!entry) return out;
  for (const key of ['ipv4-address', 'ipv6-address', 'ipv6-prefix-assignment']) {
    for (const a of (Array.isArray(entry[key]) ? entry[key] : []) as Addr[]) {
      if (typeof a.address !== 'string' || typeof a.mask !== 'number') continue;
      const p = parsePrefix(`${a.address}/${a.mask}`);

      if (p) out.prefixes.push(p);
      if (key !== 'ipv6-prefix-assignment') out.router.push(a.address);
      else if (typeof a['local-address']?.address === 'string') out.router.push(a['local-address'].address);
    }
  }

  return out;
}

export function insideNetworks(lanZones: string[], zones: Map<string, Zone>, network: UciPackage | null, dump: unknown): InsideNetworks {
  const result: InsideNetworks = { prefixes: [], router: [] };

  for (const zone of lanZones) {
    for (const name of zones.get(zone)?.networks ?? []) {
      for (const part of [network ? configured(network, name) : null, live(dump, name)]) {
        if (!part) continue;
        result.prefixes.push(...part.prefixes);
        result.router.push(...part.router);
      }
    }
  }

  return result;
}

export interface Redirect {
  /** Its name option, or @redirect[N]. */
  label: string;
  /** What `uci` calls it: firewall.@redirect[N]. */
  field: string;
  covers(member: Member): boolean;
}

/** fw4's proto names → what they cover (fw4.uc parse_proto, DNAT targets). */
function protos(value: string | string[] | undefined): Set<string> | 'all' {
  const set = new Set<string>();

  for (const raw of words(value ?? 'tcp udp').map((w) => w.toLowerCase())) {
    if (raw.startsWith('!')) continue; // "all but": rare enough to ignore here
    if (['all', 'any', '*'].includes(raw)) return 'all';
    if (raw === 'tcpudp') set.add('tcp').add('udp');
    else set.add({ '6': 'tcp', '17': 'udp', '47': 'gre', '50': 'esp', ipsec: 'esp' }[raw] ?? raw);
  }

  return set;
}

/** "500", "500-4500", "500:4500"; missing = every port. */
function ports(value: string | string[] | undefined): [number, number][] | null {
  if (value === undefined) return null;
  const ranges: [number, number][] = [];

  for (const w of words(value)) {
    const m = /^(\d+)(?:[-:](\d+))?$/.exec(w);

    if (m) ranges.push([Number(m[1]), Number(m[2] ?? m[1])]);
  }

  return ranges;
}

const FALSE = ['0', 'false', 'no', 'off', 'disabled'];

/** firewall4's port forwards from the given (outside) zones: enabled DNAT
 * redirects that are not IPv6-only. */
export function firewallRedirects(firewall: UciPackage | null, outsideZones: string[]): Redirect[] {
  const result: Redirect[] = [];
  let index = 0;

  for (const s of firewall?.sections ?? []) {
    if (s.type !== 'redirect') continue;
    const i = index++;
    const get = (o: string) => s.options.get(o);
    const src = get('src');
    const target = String(get('target') ?? 'DNAT').toUpperCase();

    if (FALSE.includes(String(get('enabled') ?? '1')) || target !== 'DNAT' || get('family') === 'ipv6') continue;
    if (typeof src !== 'string' || (src !== '*' && !outsideZones.includes(src))) continue;

    const name = get('name');
    const covered = protos(get('proto'));
    const range = ports(get('src_dport'));

    result.push({
      label: typeof name === 'string' ? `'${name}'` : `@redirect[${i}]`,
      field: `firewall.${s.name ?? `@redirect[${i}]`}`,
      covers(member) {
        const { proto, port } = memberParts(member);

        if (covered !== 'all' && !covered.has(proto)) return false;

        return port === null || range === null || range.some(([lo, hi]) => port >= lo && port <= hi);
      },
    });
  }

  return result;
}
