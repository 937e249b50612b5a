// A server's section against the router, before anything is loaded: its
// host must be an inside host; two servers cannot share a protocol set on
// the one outside address; a firewall4 port forward or a VPN daemon on the
// router itself must not hold the same ports. Each problem names the
// server's field and the other party.

import { PACKAGE } from '../config.ts';
import { error, warning, type Diagnostic } from '../diag.ts';
import { addressBytes, contains, formatPrefix, reservedIPv4, type Prefix } from '../net/prefix.ts';
import type { Socket } from '../net/sockets.ts';
import type { ServerConfig } from './config.ts';
import type { InsideNetworks, Redirect } from './facts.ts';
import { describeMembers, memberParts, SERVER_MEMBERS, SHARED_SETS, type Member } from './sets.ts';

export interface ServerFacts {
  inside: InsideNetworks;
  redirects: Redirect[];
  /** The router's own sockets (/proc/net); empty when there was nothing to check. */
  sockets: Socket[];
  /** Who holds a socket, by inode: "charon (pid 812)". */
  owners: Map<number, string>;
}

const field = (s: ServerConfig, option: string) => `${PACKAGE}.${s.name}.${option}`;

/** The servers that take part: enabled, with a valid protocol. */
export function activeServers(servers: readonly ServerConfig[]): (ServerConfig & { protocol: NonNullable<ServerConfig['protocol']> })[] {
  return servers.filter((s): s is ServerConfig & { protocol: NonNullable<ServerConfig['protocol']> } => s.enabled && s.protocol !== null);
}

function checkAddress(s: ServerConfig, option: 'host' | 'host6', facts: ServerFacts, out: Diagnostic[]): void {
  const text = s[option];

  if (text === null) return;
  const family = option === 'host' ? 4 : 6;
  const bytes = addressBytes(text)!;
  const nets = facts.inside.prefixes.filter((p) => p.family === family);
  const list = (ps: Prefix[]) => [...new Set(ps.map(formatPrefix))].join(', ');

  if (nets.length === 0) {
    out.push(warning('server_host_unchecked', `cannot be checked: no inside network has a known IPv${family} subnet`, field(s, option), text));
  } else if (facts.inside.router.includes(text)) {
    out.push(error('server_host_is_router', 'is the router\'s own address: name the inside host that runs the VPN server', field(s, option), text));
  } else {
    const net = nets.find((p) => contains(p, bytes));

    if (!net) out.push(error('server_host_not_inside', `is not in an inside network (${list(nets)}): the server must be a host behind the router`, field(s, option), text));
    else if (reservedIPv4(net, bytes)) out.push(error('server_host_not_inside', `is the network or broadcast address of ${formatPrefix(net)}, not a host`, field(s, option), text));
  }
}

/** Two servers whose IPv4 forwards overlap: one error per pair, on the later one. */
function checkConflicts(servers: ReturnType<typeof activeServers>, out: Diagnostic[]): void {
  const v4 = servers.filter((s) => s.host !== null);
  const reported = new Set<string>();

  for (const set of SHARED_SETS) {
    const claim = v4.filter((s) => SERVER_MEMBERS[s.protocol].some((m) => set.members.includes(m)));

    for (const later of claim.slice(1)) {
      const first = claim[0]!;
      const pair = `${first.name}\n${later.name}`;

      if (reported.has(pair)) continue;
      reported.add(pair);
      const same = first.host === later.host ? `; ${later.host} gets it already from '${first.name}' (an 'l2tp' server forwards the IPsec set too, so IKEv2 reaches it): remove or disable one of the two` : ': the router has one outside address, so only one inside host can have it';

      out.push(error('server_conflict', `forwards ${set.name} like server '${first.name}' (${first.protocol} to ${first.host})${same}`, field(later, 'protocol'), later.protocol));
    }
  }
}

function checkRedirects(s: ReturnType<typeof activeServers>[number], facts: ServerFacts, out: Diagnostic[]): void {
  if (s.host === null) return;
  for (const r of facts.redirects) {
    const covered = SERVER_MEMBERS[s.protocol].filter((m) => r.covers(m));

    if (covered.length > 0) {
      out.push(error('server_redirect_conflict', `firewall4's port forward ${r.label} (${r.field}) also forwards ${describeMembers(covered)} from outside: remove or disable that port forward, or this server`, field(s, 'protocol'), s.protocol));
    }
  }
}

/** A socket that outside packets to the router's IPv4 address would reach. */
function outsideFacing(socket: Socket, inside: InsideNetworks): boolean {
  if (socket.family === 6) return socket.address === '::'; // dual-stack wildcard
  if (socket.address === '0.0.0.0') return true;
  if (socket.address.startsWith('127.')) return false;
  const bytes = addressBytes(socket.address)!;

  return !inside.prefixes.some((p) => p.family === 4 && contains(p, bytes));
}

function checkSockets(s: ReturnType<typeof activeServers>[number], facts: ServerFacts, out: Diagnostic[]): void {
  if (s.host === null) return;
  const seen = new Set<Member>();

  for (const member of SERVER_MEMBERS[s.protocol]) {
    const { proto, port } = memberParts(member);
    const holder = facts.sockets.find((k) => k.proto === proto && k.port === port && k.listening && outsideFacing(k, facts.inside));

    if (!holder || seen.has(member)) continue;
    seen.add(member);
    const who = facts.owners.get(holder.inode) ?? 'a program on the router';
    const bound = holder.family === 6 ? `[${holder.address}]:${port}` : `${holder.address}:${port}`;

    out.push(error('server_port_in_use', `${describeMembers([member])} is taken on the router itself by ${who} (listening on ${bound}): a VPN service on the router and a server forwarded behind it cannot share it; stop and disable that service, or remove this server`, field(s, 'protocol'), s.protocol));
  }
}

export function checkServers(servers: readonly ServerConfig[], facts: ServerFacts): Diagnostic[] {
  const out: Diagnostic[] = [];
  const active = activeServers(servers);

  for (const s of active) {
    checkAddress(s, 'host', facts, out);
    checkAddress(s, 'host6', facts, out);
  }
  checkConflicts(active, out);
  for (const s of active) {
    checkRedirects(s, facts, out);
    checkSockets(s, facts, out);
  }

  return out;
}

/** The ports the router's own sockets would need to hold for a conflict
 * (so only those owners are looked up). */
export function serverPorts(servers: readonly ServerConfig[]): { proto: 'tcp' | 'udp'; port: number }[] {
  const ports = activeServers(servers)
    .filter((s) => s.host !== null)
    .flatMap((s) => SERVER_MEMBERS[s.protocol].map(memberParts))
    .filter((m): m is { proto: 'tcp' | 'udp'; port: number } => m.port !== null);

  return ports.filter((p, i) => ports.findIndex((q) => q.proto === p.proto && q.port === p.port) === i);
}
