// `config server` sections of /etc/config/vpn-passthrough: a VPN server on
// an inside host that outside clients reach through the router's outside
// address. Read with the same option-table reader as the other sections,
// so bad values name their field (vpn-passthrough.office.host) and value.
//
//   config server 'office'
//       option enabled '1'
//       option protocol 'ipsec'       # pptp | l2tp | ipsec
//       option host '192.168.1.20'    # the inside server's IPv4 address
//       option host6 'fd00::20'       # optional: its IPv6 address (no NAT)
//       list allow '198.51.100.0/24'  # optional: outside sources; none = any

import { bool, hostList, into, PACKAGE, readSection, type Reader } from '../config.ts';
import { error, warning, type Diagnostic } from '../diag.ts';
import { parseHost, type Host } from '../net/addr.ts';
import type { UciSection } from '../uci/parse.ts';
import { SERVER_PROTOCOLS, type ServerProtocol } from './sets.ts';

export interface ServerConfig {
  /** The section's name, or `@server[N]` for an anonymous section. */
  name: string;
  /** Names its counters and chains in nftables: srv_<name>. */
  id: string;
  enabled: boolean;
  protocol: ServerProtocol | null;
  /** Normalized IPv4 address, or null. */
  host: string | null;
  /** Normalized IPv6 address, or null. */
  host6: string | null;
  /** Outside sources allowed in (IPv4/IPv6 addresses or prefixes); empty = any. */
  allow: Host[];
}

const single = (value: string | string[], field: string, out: Diagnostic[]): string | undefined => {
  if (typeof value === 'string') return value;
  out.push(error('not_a_list', 'must be a single value (option), not a list', field, value.join(' ')));

  return undefined;
};

const protocol: Reader<ServerProtocol> = (value, field, out) => {
  const v = single(value, field, out);

  if (v === undefined) return undefined;
  if ((SERVER_PROTOCOLS as readonly string[]).includes(v)) return v as ServerProtocol;
  out.push(error('invalid_server_protocol', "must be 'pptp', 'l2tp' (L2TP/IPsec) or 'ipsec'", field, v));

  return undefined;
};

/** One unicast address of the family (no prefix, no MAC). */
const address = (family: 'ipv4' | 'ipv6', code: string): Reader<string> => (value, field, out) => {
  const v = single(value, field, out);

  if (v === undefined) return undefined;
  const host = parseHost(v);
  const text = host?.kind === family && !host.text.includes('/') ? host.text : null;
  const usable = text !== null && (family === 'ipv4' ? !/^(0|127|22[4-9]|2[3-5]\d)\./.test(text) : !/^(::1?$|fe[89ab]|ff)/i.test(text));

  if (usable) return text;
  out.push(error(code, family === 'ipv4' ? 'must be the inside server\'s IPv4 address (one unicast address, no prefix)' : 'must be the inside server\'s global or ULA IPv6 address (one address, no prefix, not link-local)', field, v));

  return undefined;
};

// Built at first use: config.ts imports this module, so its exports are not
// there yet while this one loads.
const allow: Reader<Host[]> = (value, field, out) => hostList(
  (host) => host.kind !== 'mac',
  'invalid_allow',
  'is not an outside IPv4/IPv6 address or prefix (an outside host has no MAC address the router can see)',
  (v) => (typeof v === 'string' ? v.split(/\s+/).filter(Boolean) : v),
)(value, field, out);

/** Reads one `config server` section; index counts server sections (for @server[N]). */
export function readServer(section: UciSection, index: number, out: Diagnostic[]): ServerConfig {
  const name = section.name ?? `@server[${index}]`;
  const server: ServerConfig = { name, id: section.name === null ? `srv__${index}` : `srv_${section.name}`, enabled: true, protocol: null, host: null, host6: null, allow: [] };
  const before = out.length;

  readSection(section, name, {
    enabled: into(bool, (v) => (server.enabled = v)),
    protocol: into(protocol, (v) => (server.protocol = v)),
    host: into(address('ipv4', 'invalid_server_host'), (v) => (server.host = v)),
    host6: into(address('ipv6', 'invalid_server_host6'), (v) => (server.host6 = v)),
    allow: into(allow, (v) => (server.allow = v)),
  }, out);

  const field = (option: string) => `${PACKAGE}.${name}.${option}`;
  const bad = (option: string) => out.slice(before).some((d) => d.field === field(option));

  if (!section.options.has('protocol')) out.push(error('server_protocol_missing', "needs a protocol: 'pptp', 'l2tp' or 'ipsec'", field('protocol')));
  if (!section.options.has('host') && !section.options.has('host6') && !bad('host')) {
    out.push(error('server_host_missing', 'needs the inside server\'s address: host (IPv4), host6 (IPv6), or both', field('host')));
  }
  if (server.allow.length > 0) {
    const v4 = server.allow.some((h) => h.kind === 'ipv4');
    const v6 = server.allow.some((h) => h.kind === 'ipv6');

    if (server.host && !v4) out.push(warning('server_allow_no_ipv4', 'lists only IPv6 sources: nobody reaches the server over IPv4', field('allow'), server.allow.map((h) => h.text).join(' ')));
    if (server.host6 && !v6) out.push(warning('server_allow_no_ipv6', 'lists only IPv4 sources: nobody reaches the server over IPv6', field('allow'), server.allow.map((h) => h.text).join(' ')));
  }

  return server;
}
