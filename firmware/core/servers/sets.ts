// What a VPN server behind the router needs from the outside, per protocol:
// its members (a transport protocol and, where it has one, a port). l2tp is
// L2TP/IPsec: UDP 1701 travels inside IPsec, so it takes the IPsec set too.
// One member can go to one inside host only (it arrives on the router's
// one outside address), which groups them into the sets servers compete for.

import type { ProtocolName } from '../model.ts';

export type ServerProtocol = ProtocolName;
export const SERVER_PROTOCOLS: readonly ServerProtocol[] = ['pptp', 'l2tp', 'ipsec'];

export type Member = 'tcp/1723' | 'gre' | 'udp/1701' | 'udp/500' | 'udp/4500' | 'esp';

export const SERVER_MEMBERS: Record<ServerProtocol, readonly Member[]> = {
  pptp: ['tcp/1723', 'gre'],
  l2tp: ['udp/1701', 'udp/500', 'udp/4500', 'esp'],
  ipsec: ['udp/500', 'udp/4500', 'esp'],
};

/** The sets two servers cannot share on the outside address. */
export const SHARED_SETS: readonly { name: string; members: readonly Member[] }[] = [
  { name: 'the PPTP set (TCP 1723 + GRE)', members: ['tcp/1723', 'gre'] },
  { name: 'the IPsec set (UDP 500 + UDP 4500 + ESP)', members: ['udp/500', 'udp/4500', 'esp'] },
  { name: 'UDP 1701', members: ['udp/1701'] },
];

/** The passthrough protocol whose chain classifies a member's packets. */
export const PASSTHROUGH_OF: Record<Member, ProtocolName> = {
  'tcp/1723': 'pptp',
  gre: 'pptp',
  'udp/1701': 'l2tp',
  'udp/500': 'ipsec',
  'udp/4500': 'ipsec',
  esp: 'ipsec',
};

export function memberParts(m: Member): { proto: 'tcp' | 'udp' | 'gre' | 'esp'; port: number | null } {
  const [proto, port] = m.split('/') as ['tcp' | 'udp' | 'gre' | 'esp', string | undefined];

  return { proto, port: port === undefined ? null : Number(port) };
}

/** "UDP 500 + UDP 4500 + ESP": what a server's section forwards, in words. */
export function describeMembers(members: readonly Member[]): string {
  return members.map((m) => m.toUpperCase().replace('/', ' ')).join(' + ');
}
