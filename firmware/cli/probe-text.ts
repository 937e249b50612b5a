// A probe report in lines a router owner reads at a glance: what the server
// said to the router, what the settings do to the inside host, and the
// conclusion of the two, protocol by protocol.

import { formatDiagnostic } from '../core/diag.ts';
import { PROTOCOLS, type ProtocolName } from '../core/model.ts';
import type { IkeReply } from '../core/probe/ike-init.ts';
import type { L2tpReply } from '../core/probe/l2tp.ts';
import type { Exchange, HostVerdict, PptpReply, ProbeReport } from '../core/probe/report.ts';

const NAME: Record<ProtocolName, string> = { pptp: 'PPTP', l2tp: 'L2TP', ipsec: 'IPsec' };

const quoted = (s: string | undefined) => (s ? `"${s}"` : '(none)');

function pptp(r: PptpReply): string {
  const error = r.result === 2 ? `, error ${r.error} (${r.error_text})` : '';

  return `${r.message}, result ${r.result} (${r.result_text})${error}; server ${quoted(r.host_name)}, vendor ${quoted(r.vendor)}, firmware ${r.firmware}, PPTP ${r.protocol_version}`;
}

function l2tp(r: L2tpReply): string {
  const parts = [
    ...(r.result ? [`result ${r.result.code}${r.result.error ? `/${r.result.error}` : ''}${r.result.text ? ` "${r.result.text}"` : ''}`] : []),
    ...(r.host_name !== undefined ? [`server ${quoted(r.host_name)}`] : []),
    ...(r.vendor !== undefined ? [`vendor ${quoted(r.vendor)}`] : []),
    ...(r.firmware !== undefined ? [`firmware ${r.firmware}`] : []),
    ...(r.protocol_version ? [`L2TP ${r.protocol_version}`] : []),
    ...(r.challenge ? ['asks for tunnel authentication'] : []),
    ...(r.hidden ? [`${r.hidden} hidden AVPs`] : []),
  ];

  return `${r.message}${parts.length ? `: ${parts.join(', ')}` : ''}`;
}

/** Refusals that still show a working server, in words. */
const IKE_REFUSALS: Record<string, (r: IkeReply) => string> = {
  INVALID_KE_PAYLOAD: (r) => `it wants DH group ${r.wants_group ?? '?'} (a client then asks again with it: normal)`,
  NO_PROPOSAL_CHOSEN: () => 'NO_PROPOSAL_CHOSEN (none of the algorithms this test offers; the VPN client\'s own may still match)',
};

function ike(r: IkeReply, x: Exchange): string {
  const what = r.version === '1.0' ? r.exchange : `IKEv2 ${r.exchange}${r.response ? ' response' : ''}`;
  const said = r.error
    ? (IKE_REFUSALS[r.error]?.(r) ?? r.error)
    : r.cookie ? 'asks for a cookie (it is busy)' : r.proposal ? `accepts ${r.proposal.join('/')}` : r.notifies.join(', ');
  const nat = x.nat
    ? x.nat.router_side ? '; a NAT sits between this router and the server' : x.nat.server_side ? '; the server reports a NAT in front of it (or forces UDP encapsulation)' : '; no NAT on the way'
    : '';

  return `${what}: ${said}${r.nat_detection ? '; supports NAT detection' : ''}${nat}`;
}

export function exchangeText(x: Exchange, protocol: ProtocolName, timeoutMs: number): string {
  const where = `${x.transport.toUpperCase()} ${x.port}`.padEnd(9);

  switch (x.outcome) {
    case 'answered': {
      const r = x.reply;
      const said = !r ? '' : protocol === 'pptp' ? pptp(r as PptpReply) : protocol === 'l2tp' ? l2tp(r as L2tpReply) : ike(r as IkeReply, x);

      return `${where} answered in ${x.rtt_ms} ms${x.attempts > 1 ? ` (${x.attempts} tries)` : ''}: ${said}`;
    }
    case 'refused': return `${where} REFUSED: nothing listens there (${x.transport === 'tcp' ? 'connection refused' : 'ICMP port unreachable'})`;
    case 'unreachable': return `${where} UNREACHABLE: ${x.error}`;
    case 'no_answer': return `${where} NO ANSWER within ${timeoutMs / 1000} s${x.connect_ms !== undefined ? ' (the connection opened, no reply came)' : ''}`;
    case 'closed': return `${where} CLOSED by the server without a reply`;
    case 'unexpected': return `${where} UNEXPECTED: ${x.error}`;
    case 'malformed': return `${where} NOT ${NAME[protocol]}: ${x.error}`;
    case 'error': return `${where} FAILED on this router: ${x.error}`;
  }
}

function verdictText(v: HostVerdict): string {
  const state = v.passes === null ? 'CANNOT TELL' : v.passes ? 'passes' : 'BLOCKED';
  const where = v.field && v.passes === false ? ` [${v.field}${v.value !== undefined ? `='${v.value}'` : ''}]` : '';

  return `${state}: ${v.message}${where}`;
}

export function probeLines(r: ProbeReport): string[] {
  const probed = PROTOCOLS.filter((p) => r.protocols[p]);
  const named = r.server === r.address ? r.address : `${r.server} (${r.address}${r.addresses.length > 1 ? `; also ${r.addresses.slice(1).join(', ')}` : ''})`;
  const lines = [`Asking ${named} from this router, ${r.timeout_ms / 1000} s at most:`, ''];

  for (const p of probed) {
    const result = r.protocols[p]!;

    result.exchanges.forEach((x, i) => lines.push(`${(i === 0 ? NAME[p] : '').padEnd(6)} ${exchangeText(x, p, r.timeout_ms)}`));
    if (p === 'ipsec') lines.push(`${''.padEnd(6)} NAT-T ${result.nat_t ? 'available: the server answers on UDP 4500' : 'NOT available: no IKE answer on UDP 4500 (several clients behind one NAT need it)'}`);
  }

  if (r.host) {
    const also = [...r.host.ipv4, ...r.host.ipv6, ...r.host.macs].filter((a) => a !== r.host!.given);

    lines.push('', `What the settings do to ${r.host.given}${also.length ? ` (${also.join(', ')})` : ''}:`);
    for (const p of probed) {
      const v = r.protocols[p]!.verdict;

      if (v) lines.push(`${NAME[p].padEnd(6)} ${verdictText(v)}`);
    }
  }

  if (r.warnings.length) lines.push('', ...r.warnings.map(formatDiagnostic));
  lines.push('', ...probed.map((p) => `${`${NAME[p]}:`.padEnd(6)} ${r.protocols[p]!.conclusion.message}`));

  return lines;
}
