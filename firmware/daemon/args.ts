// The `set` method's arguments, checked as strictly as the UCI file is: an
// invalid one is refused with a message naming the field and the value.

import { FAMILIES, PROTOCOLS, type Family, type ProtocolName } from '../core/model.ts';
import { parseHost } from '../core/net/addr.ts';
import type { ProtocolChange } from '../engine/edit.ts';

export interface SetArgs extends ProtocolChange {
  protocol: ProtocolName;
}

export class InvalidArgument extends Error {}

const show = (v: unknown) => JSON.stringify(v) ?? String(v);

export function parseSetArgs(args: Record<string, unknown>): SetArgs {
  const { protocol, enabled, family, hosts } = args;

  for (const name of Object.keys(args)) {
    if (!['protocol', 'enabled', 'family', 'hosts', 'ubus_rpc_session'].includes(name)) throw new InvalidArgument(`${name}: unknown argument (protocol, enabled, family, hosts)`);
  }
  if (typeof protocol !== 'string' || !(PROTOCOLS as readonly string[]).includes(protocol)) {
    throw new InvalidArgument(`protocol: ${show(protocol)} is not one of ${PROTOCOLS.join(', ')}`);
  }

  const out: SetArgs = { protocol: protocol as ProtocolName };

  if (enabled !== undefined) {
    // ubus sends booleans as int8; `ubus call` from a shell may send 0/1.
    if (typeof enabled !== 'boolean' && enabled !== 0 && enabled !== 1) throw new InvalidArgument(`enabled: ${show(enabled)} is not a boolean`);
    out.enabled = Boolean(enabled);
  }
  if (family !== undefined) {
    if (typeof family !== 'string' || !(FAMILIES as readonly string[]).includes(family)) throw new InvalidArgument(`family: ${show(family)} is not one of ${FAMILIES.join(', ')}`);
    out.family = family as Family;
  }
  if (hosts !== undefined) {
    if (!Array.isArray(hosts)) throw new InvalidArgument(`hosts: ${show(hosts)} is not an array of addresses`);
    for (const host of hosts) {
      if (typeof host !== 'string' || !parseHost(host)) throw new InvalidArgument(`hosts: ${show(host)} is not an IPv4/IPv6 address, CIDR prefix or MAC address`);
    }
    out.hosts = hosts as string[];
  }
  if (out.enabled === undefined && out.family === undefined && out.hosts === undefined) {
    throw new InvalidArgument('nothing to set: give enabled, family or hosts');
  }

  return out;
}
