// An apply's outcome in lines for people: what the command prints and what
// the daemon logs.

import { MATCHES, type Plan, type ProtocolPlan } from '../core/plan.ts';
import type { ServerPlan } from '../core/servers/plan.ts';
import { describeMembers } from '../core/servers/sets.ts';
import type { ApplyResult } from '../engine/engine.ts';

const HELPER: Record<string, string> = { loaded: 'module loaded', builtin: 'built into the kernel', missing: 'MISSING', unknown: 'state unknown' };

function describe(p: ProtocolPlan, plan: Plan, helper: string): string {
  if (p.outbound === 'drop') return `${p.name.padEnd(6)} dropped  (${MATCHES[p.name].summary})`;

  const family = p.dropFamily === 'ipv6' ? 'IPv4 only' : p.dropFamily === 'ipv4' ? 'IPv6 only' : 'IPv4 + IPv6';
  const hosts = p.hosts ? `hosts ${[...p.hosts.ipv4, ...p.hosts.ipv6, ...p.hosts.mac].join(' ')}` : 'all inside hosts';
  const extra = p.name === 'pptp' ? (plan.pptpHelper ? `, conntrack helper attached (${HELPER[helper]})` : ', NO conntrack helper') : '';

  return `${p.name.padEnd(6)} passes   ${family}, ${hosts}${extra}`;
}

/** What `apply` (and enable/disable) print after applying. */
export function report(result: ApplyResult, out: (line: string) => void): void {
  const plan = result.plan;

  if (!result.ok || !plan) return;
  if (result.unchanged) {
    out(`vpn-passthrough: unchanged: the kernel already has these rules (counters kept; ${result.duration_ms} ms)`);

    return;
  }
  if (!plan.table) {
    out(`vpn-passthrough: master switch off: table inet vpn_passthrough removed, firewall4 alone decides (${result.duration_ms} ms)`);

    return;
  }
  out(`vpn-passthrough: applied in ${result.duration_ms} ms: inside ${plan.devices.inside.join(' ')} -> outside ${plan.devices.outside.join(' ')}`);
  for (const p of plan.protocols) out(`  ${describe(p, plan, result.helper)}`);
  for (const s of plan.servers.list) out(`  ${serverLine(s)}`);
}

/** "server office (ipsec): UDP 500 + UDP 4500 + ESP -> 192.168.1.20, fd00::20, from 198.51.100.0/24" */
function serverLine(s: ServerPlan): string {
  const allow = s.allow4 === null ? '' : `, from ${[...s.allow4, ...(s.allow6 ?? [])].join(' ') || 'nobody'}`;

  return `server ${s.name} (${s.protocol}): ${describeMembers(s.members)} -> ${[s.host, s.host6].filter(Boolean).join(', ')}${allow}`;
}
