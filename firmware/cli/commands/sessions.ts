import { formatDiagnostic } from '../../core/diag.ts';
import type { Session, SessionsReport } from '../../core/model.ts';
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

export function sessionLines(r: SessionsReport): string[] {
  const lines: string[] = [];

  if (r.sessions.length > 0) {
    lines.push(...table([
      ['protocol', 'transport', 'inside', 'outside', 'helper', 'traffic', 'age'],
      ...r.sessions.map((s) => [
        s.protocol,
        transport(s),
        endpoint(s.inside, s.inside_port),
        endpoint(s.outside, s.outside_port) + (s.replied ? '' : ' (no reply)'),
        s.helper === null ? '?' : s.helper ? 'yes' : s.protocol === 'pptp' ? 'NO' : '-',
        s.packets === null || s.bytes === null ? '-' : `${s.packets} pkts / ${bytes(s.bytes)}`,
        s.age === null ? '-' : `${s.age} s`,
      ]),
    ]), '');
  }
  lines.push(`${r.sessions.length} VPN session${r.sessions.length === 1 ? '' : 's'} among ${r.entries} conntrack entries (${r.source})${r.skipped ? `; ${r.skipped} malformed line${r.skipped === 1 ? '' : 's'} skipped` : ''}`);
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
