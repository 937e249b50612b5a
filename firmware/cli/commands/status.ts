import { formatDiagnostic } from '../../core/diag.ts';
import { PROTOCOLS, type Status } from '../../core/model.ts';
import { status } from '../../engine/engine.ts';
import type { Command } from '../command.ts';
import { bytes, printJson, table } from '../output.ts';
import { netifd } from '../netifd.ts';
import { paths } from '../paths.ts';

const HELPER = { loaded: 'loaded', builtin: 'built into the kernel', missing: 'MISSING: install kmod-nf-nathelper-extra', unknown: 'not checked yet (PPTP has not been applied)' };

const utc = (time: number) => `${new Date(time * 1000).toISOString().replace('T', ' ').slice(0, 19)} UTC`;

/** How often the kernel lost our rules and they were put back, the last time and why. */
function restoreLine(s: Status): string {
  const last = s.restores.recent[0];

  if (!last) return 'restored: never (the kernel has not lost our rules since boot)';

  return `restored: ${s.restores.count} time${s.restores.count === 1 ? '' : 's'} since boot; last ${utc(last.time)}, noticed by ${last.trigger}: ${last.lost}${last.event ? ` (${last.event})` : ''}`;
}

export function statusLines(s: Status): string[] {
  const last = s.last_apply;
  const when = last ? `${utc(last.time)}, ${last.ok ? 'ok' : 'FAILED'}, ${last.duration_ms} ms` : 'never';
  const lines = [
    `vpn-passthrough ${s.version}: ${s.enabled ? 'enabled' : 'master switch OFF'}, rules ${s.applied ? 'loaded' : 'NOT loaded'} (last apply: ${when})`,
    `inside:  zones ${s.inside.zones.join(' ')} -> ${s.inside.devices.join(' ') || '(no devices)'}`,
    `outside: zones ${s.outside.zones.join(' ')} -> ${s.outside.devices.join(' ') || '(no devices)'}`,
    `pptp conntrack helper: ${HELPER[s.helper.pptp]}`,
    `log dropped attempts: ${s.log ? 'on' : 'off'}`,
    restoreLine(s),
    '',
    ...table([
      ['protocol', 'state', 'family', 'hosts', 'passed', 'dropped'],
      ...PROTOCOLS.map((name) => {
        const p = s.protocols[name];

        return [name, `${p.enabled ? 'on' : 'off'}${s.enabled ? '' : ' (master off)'}`, p.family, p.hosts.join(' ') || 'all', `${p.passed.packets} connection${p.passed.packets === 1 ? '' : 's'}`, `${p.dropped.packets} pkts / ${bytes(p.dropped.bytes)}`];
      }),
    ]),
  ];

  if (s.servers.length > 0) lines.push('', 'VPN servers behind this router:', ...serverTable(s));
  for (const d of [...(last && !last.ok ? last.diagnostics : []), ...s.diagnostics]) lines.push(formatDiagnostic(d));

  return lines;
}

function serverTable(s: Status): string[] {
  const state = (v: Status['servers'][number]) => (!s.enabled ? 'off (master off)' : !v.enabled ? 'off' : v.active ? 'on' : 'NOT applied');

  return table([
    ['server', 'protocol', 'forwards', 'to', 'from', 'state', 'connections', 'refused'],
    ...s.servers.map((v) => [
      v.name,
      v.protocol ?? '?',
      v.forwards || '-',
      [v.host, v.host6].filter(Boolean).join(', ') || '-',
      v.allow.join(' ') || 'any',
      state(v),
      String(v.connections.packets),
      v.allow.length ? `${v.refused.packets} pkts` : '-',
    ]),
  ]);
}

export const statusCommand: Command = {
  summary: 'show what passes, counters, the helper, the last apply and restores',
  usage: 'status [--json] [--confdir DIR]',
  async run(platform, args) {
    const s = await status(platform, paths(args), netifd(platform, args));

    if (args.flags.has('json')) printJson(platform, s);
    else for (const line of statusLines(s)) platform.out(line);

    return 0;
  },
};
