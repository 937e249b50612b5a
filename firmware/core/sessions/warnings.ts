// What the sessions, our set and our counters say is wrong, as Diagnostics
// (LuCI translates them by code; the CLI prints the message):
//   esp_collision     two inside hosts send raw ESP to one server: through
//                     NAT only one can work. The loser's ESP leaves no
//                     conntrack entry (the NAT drops it), so this comes from
//                     the esp_senders set our rules fill, not from the table.
//   pptp_no_gre       a PPTP control connection without GRE: the call never
//                     started, or GRE is blocked (Windows error 619).
//   pptp_no_helper    PPTP passing without the conntrack helper: no Call-ID
//                     NAT, so only one inside client per server works.
//   protocol_dropped  our drop counter of a protocol is not zero.

import { warning, type Diagnostic } from '../diag.ts';
import type { Counter, ProtocolName, Session } from '../model.ts';

export interface EspSender {
  inside: string;
  outside: string;
}

/** `nft list set inet vpn_passthrough esp_senders` → its elements
 * ("192.168.1.10 . 10.0.2.2 expires 4m59s424ms"). */
export function parseEspSenders(text: string): EspSender[] {
  const at = text.indexOf('elements = {');

  if (at < 0) return [];
  const body = text.slice(at, text.indexOf('}', at));

  return [...body.matchAll(/(\d{1,3}(?:\.\d{1,3}){3}) \. (\d{1,3}(?:\.\d{1,3}){3})/g)].map((m) => ({ inside: m[1]!, outside: m[2]! }));
}

export interface Drop extends Counter {
  protocol: ProtocolName;
  /** Why its traffic is dropped: switched off, or not for every family/host. */
  reason: 'disabled' | 'restricted';
}

export interface WarningInputs {
  sessions: readonly Session[];
  espSenders: readonly EspSender[];
  drops: readonly Drop[];
  /** A control connection younger than this may still be starting its call. */
  graceSeconds?: number;
}

const NAME: Record<ProtocolName, string> = { pptp: 'PPTP', l2tp: 'L2TP', ipsec: 'IPsec' };

function espCollisions(sessions: readonly Session[], senders: readonly EspSender[]): Diagnostic[] {
  const byServer = new Map<string, string[]>();

  // Our rules record raw ESP senders as their connections start; the one
  // that got through also stands in the conntrack table.
  const esp = sessions.filter((s) => s.transport === 'esp').map((s) => ({ inside: s.inside, outside: s.outside }));

  for (const { inside, outside } of [...senders, ...esp]) {
    const hosts = byServer.get(outside) ?? [];

    if (!hosts.includes(inside)) hosts.push(inside);
    byServer.set(outside, hosts);
  }

  return [...byServer].filter(([, hosts]) => hosts.length > 1).sort(([a], [b]) => a.localeCompare(b)).map(([server, hosts]) => {
    const list = [...hosts].sort();
    const winner = sessions.find((s) => s.transport === 'esp' && s.outside === server && list.includes(s.inside))?.inside;
    const who = winner ? ` Only ${winner} gets through now; the others' ESP is dropped by the NAT.` : '';

    // Every host by name: the loser shows nowhere else.
    return { ...warning('esp_collision', `inside hosts ${list.join(', ')} all send raw ESP to the IPsec server ${server}: ESP has no ports, so through NAT only one of them can work.${who} Make the VPN clients use NAT-T (UDP 4500), e.g. force UDP encapsulation.`, 'vpn-passthrough.ipsec', server), hosts: list };
  });
}

function pptpWarnings(sessions: readonly Session[], grace: number): Diagnostic[] {
  const out: Diagnostic[] = [];
  const pairs = new Set<string>();

  for (const s of sessions) {
    if (s.protocol !== 'pptp') continue;
    const pair = `${s.inside} -> ${s.outside}`;

    if (s.helper === false && !pairs.has(pair)) {
      pairs.add(pair);
      out.push({ ...warning('pptp_no_helper', `PPTP from ${s.inside} to ${s.outside} passes without the conntrack helper (no Call-ID NAT): only one inside client can use that server at a time. Install kmod-nf-nathelper-extra and apply again.`, 'vpn-passthrough.pptp', pair), hosts: [s.inside] });
    }
  }

  for (const s of sessions) {
    if (s.transport !== 'control' || !s.replied || (s.age !== null && s.age < grace)) continue;
    if (sessions.some((g) => g.transport === 'gre' && g.inside === s.inside && g.outside === s.outside)) continue;
    out.push({ ...warning('pptp_no_gre', `the PPTP control connection from ${s.inside} to ${s.outside} carries no GRE: the call did not start, or GRE is blocked (the conntrack helper is missing, or something upstream drops GRE); clients report error 619.`, 'vpn-passthrough.pptp', `${s.inside} -> ${s.outside}`), hosts: [s.inside] });
  }

  return out;
}

function drops(list: readonly Drop[]): Diagnostic[] {
  return list.filter((d) => d.packets > 0).map((d) => {
    const why = d.reason === 'disabled' ? 'its passthrough is off' : 'its family or host list does not allow them';
    const field = d.reason === 'disabled' ? `vpn-passthrough.${d.protocol}.enabled` : `vpn-passthrough.${d.protocol}`;

    return warning('protocol_dropped', `${d.packets} ${NAME[d.protocol]} packets (${d.bytes} bytes) were dropped since the last apply: ${why}.`, field, d.protocol);
  });
}

export function sessionWarnings(input: WarningInputs): Diagnostic[] {
  return [...espCollisions(input.sessions, input.espSenders), ...pptpWarnings(input.sessions, input.graceSeconds ?? 5), ...drops(input.drops)];
}
