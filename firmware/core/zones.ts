// firewall4 zones → the devices they cover. A zone lists networks (netifd
// interfaces) and raw devices; an interface's device comes from netifd
// (`ubus call network.interface dump`: l3_device, e.g. pppoe-wan) and from
// /etc/config/network. Both are used: netifd knows the live device, the
// config knows it while the interface is still down (at boot), so the rules
// are right before and after the link comes up.

import { error, warning, type Diagnostic } from './diag.ts';
import type { Config } from './config.ts';
import type { UciPackage } from './uci/parse.ts';
import { PACKAGE } from './config.ts';

export interface Zone {
  networks: string[];
  devices: string[];
}

export interface Devices {
  inside: string[];
  outside: string[];
}

const words = (value: string | string[] | undefined) => (value === undefined ? [] : typeof value === 'string' ? value.split(/\s+/).filter(Boolean) : value);

/** netifd names the device of a PPP-style protocol `<proto>-<interface>`. */
const PPP_PROTOS = new Set(['pppoe', 'pppoa', 'pptp', 'l2tp', 'ppp']);

/** Valid for nft's ifname type: ≤ 15 bytes, no quote; fw4's `+` wildcard becomes `*`. */
function deviceName(name: string): string | null {
  const nft = name.endsWith('+') ? `${name.slice(0, -1)}*` : name;

  return /^[A-Za-z0-9_.:@*-]{1,15}$/.test(nft) && !nft.slice(0, -1).includes('*') ? nft : null;
}

export function firewallZones(firewall: UciPackage): Map<string, Zone> {
  const zones = new Map<string, Zone>();

  for (const section of firewall.sections) {
    if (section.type !== 'zone') continue;
    const name = section.options.get('name');

    if (typeof name !== 'string') continue;
    zones.set(name, { networks: words(section.options.get('network')), devices: words(section.options.get('device')) });
  }

  return zones;
}

/** firewall4's `flow_offloading` (software or hardware) is on. */
export function flowOffloading(firewall: UciPackage): boolean {
  return firewall.sections.some((s) => s.type === 'defaults' && ['1', 'true', 'yes', 'on'].includes(String(s.options.get('flow_offloading'))));
}

/** Interface → devices, from /etc/config/network. */
export function networkDevices(network: UciPackage): Map<string, string[]> {
  const interfaces = new Map(network.sections.filter((s) => s.type === 'interface' && s.name !== null).map((s) => [s.name!, s]));
  const resolve = (name: string, seen: Set<string>): string[] => {
    const section = interfaces.get(name);

    if (!section || seen.has(name)) return [];
    seen.add(name);

    const proto = section.options.get('proto');
    const device = section.options.get('device') ?? section.options.get('ifname');

    if (typeof proto === 'string' && PPP_PROTOS.has(proto)) return [`${proto}-${name}`];
    if (proto === 'wireguard') return [name];
    if (section.options.get('type') === 'bridge') return [`br-${name}`]; // before OpenWrt 21.02

    return words(device).flatMap((d) => (d.startsWith('@') ? resolve(d.slice(1), seen) : [d]));
  };

  return new Map([...interfaces.keys()].map((name) => [name, resolve(name, new Set())]));
}

/** Interface → devices, from `ubus call network.interface dump`. */
export function ubusDevices(dump: unknown): Map<string, string[]> {
  const result = new Map<string, string[]>();
  const list = (dump as { interface?: unknown } | null)?.interface;

  if (!Array.isArray(list)) return result;
  for (const entry of list as Record<string, unknown>[]) {
    const device = typeof entry.l3_device === 'string' ? entry.l3_device : entry.device;

    if (typeof entry.interface === 'string' && typeof device === 'string') result.set(entry.interface, [device]);
  }

  return result;
}

/** Devices of the configured inside and outside zones. */
export function resolveZones(config: Config, zones: Map<string, Zone>, interfaces: Map<string, string[]>): { devices: Devices; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];

  const side = (names: string[], option: string): string[] => {
    const devices = new Set<string>();

    for (const name of names) {
      const zone = zones.get(name);
      const field = `${PACKAGE}.globals.${option}`;

      if (!zone) {
        diagnostics.push(error('unknown_zone', `is not a zone in /etc/config/firewall (zones: ${[...zones.keys()].join(', ') || 'none'})`, field, name));
        continue;
      }

      const found = [...zone.devices, ...zone.networks.flatMap((n) => interfaces.get(n) ?? [])];

      for (const network of zone.networks.filter((n) => !interfaces.has(n))) {
        diagnostics.push(warning('unknown_network', `zone '${name}' lists network '${network}', which has no device`, field, name));
      }
      for (const raw of found) {
        const device = deviceName(raw);

        if (device) devices.add(device);
        else diagnostics.push(warning('invalid_device', `zone '${name}' has device '${raw}', which nftables cannot match; ignored`, field, name));
      }
      if (found.length === 0) diagnostics.push(warning('zone_without_devices', `zone '${name}' has no devices yet: nothing of it is matched`, field, name));
    }

    return [...devices].sort();
  };

  return { devices: { inside: side(config.lanZones, 'lan_zone'), outside: side(config.wanZones, 'wan_zone') }, diagnostics };
}

/** Both sources together (see the module comment). */
export function mergeInterfaces(...sources: Map<string, string[]>[]): Map<string, string[]> {
  const merged = new Map<string, string[]>();

  for (const source of sources) {
    for (const [name, devices] of source) merged.set(name, [...new Set([...(merged.get(name) ?? []), ...devices])]);
  }

  return merged;
}
