import { formatDiagnostic } from '../../core/diag.ts';
import type { Session, SessionsReport } from '../../core/model.ts';
import { columns, helperApplies } from '../../core/sessions/columns.ts';
import { sessions } from '../../engine/sessions.ts';
import { flagValue } from '../args.ts';
import type { Command } from '../command.ts';
import { bytes, printJson, table } from '../output.ts';
import { netifd } from '../netifd.ts';
import { paths } from '../paths.ts';

const endpoint = (address: string, port: number | null) => (port === null ? address : address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);

function transport(s: Session): string {
  const ids = s.call_ids;

  return ids ? `gre (call ${ids.client ?? '?'}->${ids.server})` : s.transport;
}

function helper(s: Session): string {
  if (!helperApplies(s)) return 'n/a';

  return s.helper === null ? '?' : s.helper ? 'yes' : 'NO';
}

const WHAT = { traffic: 'byte counts', age: 'start times' };

export function sessionLines(r: SessionsReport): string[] {
  const lines: string[] = [];
  const shown = columns(r);

  if (r.sessions.length > 0) {
    lines.push(...table([
      ['protocol', 'transport', 'inside', 'outside', 'helper', ...(shown.traffic ? ['traffic'] : []), ...(shown.age ? ['age'] : [])],
      ...r.sessions.map((s) => [
        s.protocol,
        transport(s),
        endpoint(s.inside, s.inside_port),
        endpoint(s.outside, s.outside_port) + (s.replied ? '' : ' (no reply)'),
        helper(s),
        ...(shown.traffic ? [s.packets === null || s.bytes === null ? '-' : `${s.packets} pkt${s.packets === 1 ? '' : 's'} / ${bytes(s.bytes)}`] : []),
        ...(shown.age ? [s.age === null ? '-' : `${s.age} s`] : []),
      ]),
    ]), '');
    for (const h of shown.hidden) lines.push(`(no ${h.column} column: conntrack keeps no ${WHAT[h.column]} here; \`sysctl -w ${h.sysctl}=1\` keeps them for connections that start after it)`);
    if (shown.hidden.length) lines.push('');
  }
  lines.push(`${r.sessions.length} VPN session${r.sessions.length === 1 ? '' : 's'} among ${r.entries} conntrack entr${r.entries === 1 ? 'y' : 'ies'} (${r.source})${r.skipped ? `; ${r.skipped} malformed line${r.skipped === 1 ? '' : 's'} skipped` : ''}`);
  for (const d of r.warnings) lines.push(formatDiagnostic(d));

  return lines;
}

export const sessionsCommand: Command = {
  summary: 'list the VPN sessions crossing the router, with warnings',
  usage: 'sessions [--json] [--conntrack FILE] [--confdir DIR] [--statedir DIR]',
  async run(platform, args) {
    const file = flagValue(args, 'conntrack', '');
    let report: SessionsReport;

    try {
      report = await sessions(platform, paths(args), file === '' ? { netifd: netifd(platform, args) } : { conntrack: file });
    } catch (e) {
      platform.err(`vpn-passthrough sessions: cannot read the conntrack table: ${e instanceof Error ? e.message : String(e)}`);

      return 1;
    }

    if (args.flags.has('json')) printJson(platform, report);
    else for (const line of sessionLines(report)) platform.out(line);

    return 0;
  },
};
