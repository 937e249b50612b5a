import { ProbeArgumentError, parseProbeArgs, type ProbeRequest } from '../../core/probe/args.ts';
import { probe, ServerNotFound } from '../../engine/probe.ts';
import { UsageError } from '../args.ts';
import type { Command } from '../command.ts';
import { printJson } from '../output.ts';
import { netifd } from '../netifd.ts';
import { paths } from '../paths.ts';
import { probeLines } from '../probe-text.ts';

const FLAGS = ['json', 'protocol', 'host', 'timeout', 'confdir', 'statedir', 'socket'];

export const probeCommand: Command = {
  summary: 'ask a VPN server from the router: is it the router or the server?',
  usage: 'probe SERVER [--protocol pptp|l2tp|ipsec] [--host INSIDE_HOST] [--timeout S] [--json]',
  async run(platform, args) {
    const unknown = [...args.flags.keys()].find((f) => !FLAGS.includes(f));

    if (unknown) throw new UsageError(`--${unknown}: unknown option`);
    if (args.positionals.length === 0) throw new UsageError('server: which VPN server? give its address or host name');
    if (args.positionals.length > 1) throw new UsageError(`server: one server at a time (got ${args.positionals.join(' ')})`);

    let request: ProbeRequest;

    try {
      request = parseProbeArgs({ server: args.positionals[0], protocol: args.flags.get('protocol'), host: args.flags.get('host'), timeout: args.flags.get('timeout') });
    } catch (e) {
      if (e instanceof ProbeArgumentError) throw new UsageError(e.message);
      throw e;
    }

    try {
      const report = await probe(platform, paths(args), request, { netifd: netifd(platform, args) });

      if (args.flags.has('json')) printJson(platform, report);
      else for (const line of probeLines(report)) platform.out(line);

      return report.answered ? 0 : 1;
    } catch (e) {
      if (!(e instanceof ServerNotFound)) throw e;
      platform.err(`vpn-passthrough probe: ${e.message}`);

      return 1;
    }
  },
};
