// The probe's arguments, checked the same way for the command line and for
// ubus: a refusal names the argument and the value.

import { PROTOCOLS, type ProtocolName } from '../model.ts';
import { formatIPv4, formatIPv6, parseHost, parseIPv4, parseIPv6 } from '../net/addr.ts';

export class ProbeArgumentError extends Error {
  constructor(
    readonly argument: string,
    message: string,
  ) {
    super(`${argument}: ${message}`);
  }
}

export interface ProbeRequest {
  /** As given (trimmed): an address or a host name. */
  server: string;
  /** The address when one was given; null for a host name (resolved later). */
  address: string | null;
  protocols: ProtocolName[];
  /** An inside host's address or MAC, normalized. */
  host?: string;
  timeoutMs: number;
}

export const DEFAULT_TIMEOUT_S = 3;
const MAX_TIMEOUT_S = 10;

const show = (v: unknown) => JSON.stringify(v) ?? String(v);

/** RFC 1123 host names: dot-separated labels of letters, digits and inner hyphens. */
const HOSTNAME = /^(?=.{1,253}\.?$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** An address no VPN server can have: unspecified, multicast, broadcast. */
function unusable(bytes: number[]): boolean {
  if (bytes.length === 4) return bytes[0] === 0 || bytes[0]! >= 224;

  return bytes.every((b) => b === 0) || bytes[0] === 0xff;
}

export function parseServer(value: unknown): { server: string; address: string | null } {
  if (typeof value !== 'string' || value.trim() === '') throw new ProbeArgumentError('server', `${show(value)} is not an address or host name: give the VPN server's address or name`);
  const server = value.trim();
  const bare = server.startsWith('[') && server.endsWith(']') ? server.slice(1, -1) : server;
  const v4 = parseIPv4(bare);
  const v6 = v4 ? null : parseIPv6(bare);

  if (v4 || v6) {
    if (unusable((v4 ?? v6)!)) throw new ProbeArgumentError('server', `${show(value)} cannot be a VPN server (unspecified, multicast or broadcast address)`);

    return { server, address: v4 ? formatIPv4(v4) : formatIPv6(v6!) };
  }
  // All digits and dots is a mistyped IPv4 address, not a name.
  if (!HOSTNAME.test(server) || /^[0-9.]+$/.test(server)) throw new ProbeArgumentError('server', `${show(value)} is not an IPv4/IPv6 address or host name`);

  return { server, address: null };
}

export function parseProtocol(value: unknown): ProtocolName[] {
  if (value === undefined || value === null || value === '' || value === 'all') return [...PROTOCOLS];
  if (typeof value !== 'string' || !(PROTOCOLS as readonly string[]).includes(value)) throw new ProbeArgumentError('protocol', `${show(value)} is not one of ${PROTOCOLS.join(', ')}`);

  return [value as ProtocolName];
}

export function parseInsideHost(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const host = typeof value === 'string' ? parseHost(value) : null;

  if (!host || host.text.includes('/')) throw new ProbeArgumentError('host', `${show(value)} is not an inside host's IPv4/IPv6 address or MAC address`);

  return host.text;
}

export function parseTimeout(value: unknown): number {
  if (value === undefined || value === null || value === '') return DEFAULT_TIMEOUT_S * 1000;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;

  if (!(n >= 1 && n <= MAX_TIMEOUT_S)) throw new ProbeArgumentError('timeout', `${show(value)} is not a number of seconds from 1 to ${MAX_TIMEOUT_S}`);

  return Math.round(n * 1000);
}

/** The arguments as ubus passes them (the command line builds the same object). */
export function parseProbeArgs(args: Record<string, unknown>): ProbeRequest {
  for (const name of Object.keys(args)) {
    if (!['server', 'protocol', 'host', 'timeout', 'ubus_rpc_session'].includes(name)) throw new ProbeArgumentError(name, 'unknown argument (server, protocol, host, timeout)');
  }
  const { server, address } = parseServer(args.server);
  const host = parseInsideHost(args.host);

  return { server, address, protocols: parseProtocol(args.protocol), ...(host === undefined ? {} : { host }), timeoutMs: parseTimeout(args.timeout) };
}
