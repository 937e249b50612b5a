// /etc/config/vpn-passthrough → a validated Config plus diagnostics. One
// table of options per section type drives a generic reader (firewall4's
// parse_rule style), so unknown options and bad values are reported the same
// way everywhere, naming the field as `uci` does: vpn-passthrough.pptp.family.

import { error, warning, type Diagnostic } from './diag.ts';
import { FAMILIES, PROTOCOLS, type Family, type ProtocolName } from './model.ts';
import { parseHost, type Host } from './net/addr.ts';
import type { UciPackage, UciSection } from './uci/parse.ts';
import { readServer, type ServerConfig } from './servers/config.ts';

export const PACKAGE = 'vpn-passthrough';

export interface ProtocolConfig {
  enabled: boolean;
  family: Family;
  /** Allowed inside hosts, normalized; empty = every inside host. */
  hosts: Host[];
}

export interface Config {
  /** Master switch: off removes everything we added. */
  enabled: boolean;
  log: boolean;
  lanZones: string[];
  wanZones: string[];
  protocols: Record<ProtocolName, ProtocolConfig>;
  /** VPN servers behind the router (core/servers), in file order. */
  servers: ServerConfig[];
}

/** What every consumer router ships: everything passes. */
export function defaults(): Config {
  return {
    enabled: true,
    log: false,
    lanZones: ['lan'],
    wanZones: ['wan'],
    protocols: {
      pptp: { enabled: true, family: 'any', hosts: [] },
      l2tp: { enabled: true, family: 'any', hosts: [] },
      ipsec: { enabled: true, family: 'any', hosts: [] },
    },
    servers: [],
  };
}

export type Value = string | string[];
export type Reader<T> = (value: Value, field: string, out: Diagnostic[]) => T | undefined;

const TRUE = ['1', 'true', 'yes', 'on', 'enabled'];
const FALSE = ['0', 'false', 'no', 'off', 'disabled'];

export const bool: Reader<boolean> = (value, field, out) => {
  if (typeof value !== 'string') {
    out.push(error('not_a_list', 'must be a single value (option), not a list', field, value.join(' ')));

    return undefined;
  }
  if (TRUE.includes(value)) return true;
  if (FALSE.includes(value)) return false;
  out.push(error('invalid_bool', "must be '1' (on) or '0' (off)", field, value));

  return undefined;
};

const family: Reader<Family> = (value, field, out) => {
  if (typeof value === 'string' && (FAMILIES as readonly string[]).includes(value)) return value as Family;
  out.push(error('invalid_family', "must be 'any', 'ipv4' or 'ipv6'", field, typeof value === 'string' ? value : value.join(' ')));

  return undefined;
};

/** A list, or (fw4 style) one option holding space-separated words. */
const words = (value: Value) => (typeof value === 'string' ? value.split(/\s+/).filter(Boolean) : value);

const zones: Reader<string[]> = (value, field, out) => {
  const names = words(value);
  const bad = names.filter((n) => !/^[A-Za-z0-9_]+$/.test(n));

  for (const name of bad) out.push(error('invalid_zone_name', 'is not a firewall zone name (letters, digits, _)', field, name));
  if (names.length === 0) out.push(error('no_zone', 'needs at least one firewall zone', field, ''));

  return bad.length === 0 && names.length > 0 ? [...new Set(names)] : undefined;
};

/** A list of hosts, normalized and without repeats: every item must parse
 * and pass `accepts`, else `code` with `message` names it. */
export const hostList = (accepts: (host: Host) => boolean, code: string, message: string, items: (value: Value) => string[]): Reader<Host[]> => (value, field, out) => {
  const result: Host[] = [];
  let ok = true;

  for (const item of items(value)) {
    const host = parseHost(item);

    if (!host || !accepts(host)) {
      out.push(error(code, message, field, item));
      ok = false;
    } else {
      if (host.hostBitsSet) out.push(warning('host_bits_set', `has host bits set beyond its prefix; using ${host.text}`, field, item));
      if (!result.some((h) => h.text === host.text)) result.push(host);
    }
  }

  return ok ? result : undefined;
};

const hosts = hostList(() => true, 'invalid_host', 'is not an IPv4/IPv6 address, CIDR prefix or MAC address', (value) => (typeof value === 'string' ? [value] : value));

/** Reads one option's value and, when valid, stores it. */
export type Setter = (value: Value, field: string, out: Diagnostic[]) => void;

export const into = <T>(read: Reader<T>, assign: (v: T) => void): Setter => (value, field, out) => {
  const parsed = read(value, field, out);

  if (parsed !== undefined) assign(parsed);
};

/** Reads a section through its option table; unknown options are warnings. */
export function readSection(section: UciSection, label: string, table: Record<string, Setter>, out: Diagnostic[]): void {
  for (const [name, value] of section.options) {
    const field = `${PACKAGE}.${label}.${name}`;
    const setter = table[name];

    if (setter) setter(value, field, out);
    else out.push(warning('unknown_option', `is not an option of a '${section.type}' section; ignored`, field, typeof value === 'string' ? value : value.join(' ')));
  }
}

function sectionLabel(section: UciSection, index: number): string {
  return section.name ?? `@${section.type}[${index}]`;
}

export function readConfig(pkg: UciPackage): { config: Config; diagnostics: Diagnostic[] } {
  const out: Diagnostic[] = [];
  const config = defaults();
  const seen = new Map<string, number>();
  let globals = 0;

  for (const section of pkg.sections) {
    const index = seen.get(section.type) ?? 0;
    const label = sectionLabel(section, index);

    seen.set(section.type, index + 1);

    if (section.type === 'globals') {
      if (globals++ > 0) {
        out.push(warning('duplicate_globals', "only one 'globals' section is read; this one is ignored", `${PACKAGE}.${label}`));
        continue;
      }
      readSection(section, label, {
        enabled: into(bool, (v) => (config.enabled = v)),
        log: into(bool, (v) => (config.log = v)),
        lan_zone: into(zones, (v) => (config.lanZones = v)),
        wan_zone: into(zones, (v) => (config.wanZones = v)),
      }, out);
    } else if (section.type === 'protocol') {
      const name = section.name;

      if (name === null || !(PROTOCOLS as readonly string[]).includes(name)) {
        out.push(error('unknown_protocol', "is not a protocol: name the section 'pptp', 'l2tp' or 'ipsec'", `${PACKAGE}.${label}`, name ?? ''));
        continue;
      }

      const protocol = config.protocols[name as ProtocolName];

      readSection(section, label, {
        enabled: into(bool, (v) => (protocol.enabled = v)),
        family: into(family, (v) => (protocol.family = v)),
        host: into(hosts, (v) => (protocol.hosts = v)),
      }, out);

      for (const host of protocol.hosts) {
        if (host.kind !== 'mac' && protocol.family !== 'any' && host.kind !== protocol.family) {
          out.push(warning('host_family_mismatch', `is an ${host.kind === 'ipv4' ? 'IPv4' : 'IPv6'} host but family is '${protocol.family}': it never passes`, `${PACKAGE}.${name}.host`, host.text));
        }
      }
    } else if (section.type === 'server') {
      config.servers.push(readServer(section, index, out));
    } else {
      out.push(warning('unknown_section', `is not a section type of ${PACKAGE} ('globals', 'protocol', 'server'); ignored`, `${PACKAGE}.${label}`, section.type));
    }
  }

  const shared = config.lanZones.filter((z) => config.wanZones.includes(z));

  for (const zone of shared) out.push(error('zone_inside_and_outside', 'is listed as both lan_zone and wan_zone', `${PACKAGE}.globals.wan_zone`, zone));

  return { config, diagnostics: out };
}
