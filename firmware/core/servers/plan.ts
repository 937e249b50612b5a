// Validated server sections → what gets rendered, every decision taken:
// which members go to which host, which outside sources each family
// allows, and whether forwarded PPTP gets the conntrack helper.

import { PACKAGE } from '../config.ts';
import { warning, type Diagnostic } from '../diag.ts';
import type { HelperState } from '../model.ts';
import { activeServers } from './check.ts';
import type { ServerConfig } from './config.ts';
import { SERVER_MEMBERS, type Member, type ServerProtocol } from './sets.ts';

export interface ServerPlan {
  id: string;
  name: string;
  protocol: ServerProtocol;
  members: readonly Member[];
  host: string | null;
  host6: string | null;
  /** Outside sources allowed in, per family: null = any, [] = none. */
  allow4: string[] | null;
  allow6: string[] | null;
}

export interface ServersPlan {
  list: ServerPlan[];
  /** Attach the pptp helper to forwarded TCP 1723 connections. */
  helper: boolean;
}

export function planServers(servers: readonly ServerConfig[], master: boolean, helper: HelperState): { servers: ServersPlan; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const list: ServerPlan[] = (master ? activeServers(servers) : []).map((s) => {
    const restricted = s.allow.length > 0;

    return {
      id: s.id,
      name: s.name,
      protocol: s.protocol,
      members: SERVER_MEMBERS[s.protocol],
      host: s.host,
      host6: s.host6,
      allow4: restricted ? s.allow.filter((h) => h.kind === 'ipv4').map((h) => h.text) : null,
      allow6: restricted ? s.allow.filter((h) => h.kind === 'ipv6').map((h) => h.text) : null,
    };
  });
  const pptp = list.filter((s) => s.protocol === 'pptp' && s.host !== null);

  if (pptp.length > 0 && helper === 'missing') {
    diagnostics.push(warning('server_pptp_helper_missing', 'the PPTP conntrack helper (nf_conntrack_pptp) is not in the kernel: install kmod-nf-nathelper-extra; until then the server\'s GRE is forwarded by address alone, and two calls from one outside address collide', `${PACKAGE}.${pptp[0]!.name}.protocol`, 'pptp'));
  }

  return { servers: { list, helper: pptp.length > 0 && helper !== 'missing' }, diagnostics };
}
