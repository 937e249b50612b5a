// Which addresses and MAC an inside host has, from what the router has seen
// of it: the IPv4 neighbour table (/proc/net/arp) and the IPv6 one (`ip -6
// neigh`, which procfs does not list). A host given by one of them is known
// by the others too, so a host list entry of any kind can be checked.

import { normalizeAddress } from '../sessions/scope.ts';
import type { InsideHost } from './report.ts';

export interface Neighbour {
  address: string;
  mac: string;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const valid = (mac: string) => MAC.test(mac) && mac !== '00:00:00:00:00:00';

/** /proc/net/arp: "IP address  HW type  Flags  HW address  Mask  Device";
 * flags 0x0 is an incomplete entry. */
export function parseArp(text: string): Neighbour[] {
  return text.split('\n').slice(1).flatMap((line) => {
    const f = line.trim().split(/\s+/);
    const mac = (f[3] ?? '').toLowerCase();

    return f.length >= 6 && f[2] !== '0x0' && valid(mac) ? [{ address: f[0]!, mac }] : [];
  });
}

/** `ip -6 neigh show`: "ADDR dev DEV lladdr MAC [router] STATE"; FAILED and
 * INCOMPLETE entries have no lladdr. Link-local addresses never leave the
 * link, so no host list or server sees them: left out. */
export function parseIpNeigh(text: string): Neighbour[] {
  return text.split('\n').flatMap((line) => {
    const f = line.trim().split(/\s+/);
    const at = f.indexOf('lladdr');
    const mac = at > 0 ? (f[at + 1] ?? '').toLowerCase() : '';

    return at > 0 && valid(mac) && f[0]!.includes(':') && !/^fe[89ab]/i.test(f[0]!) ? [{ address: normalizeAddress(f[0]!), mac }] : [];
  });
}

/** The host given (a normalized address or MAC), with what the tables add. */
export function identify(given: string, neighbours: readonly Neighbour[]): InsideHost {
  const macs = valid(given) ? [given] : [...new Set(neighbours.filter((n) => n.address === given).map((n) => n.mac))];
  const addresses = new Set([...(valid(given) ? [] : [given]), ...neighbours.filter((n) => macs.includes(n.mac)).map((n) => n.address)]);
  const sorted = [...addresses].sort();

  return { given, ipv4: sorted.filter((a) => !a.includes(':')), ipv6: sorted.filter((a) => a.includes(':')), macs: macs.sort() };
}
