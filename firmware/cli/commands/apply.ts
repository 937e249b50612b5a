import { apply } from '../../engine/engine.ts';
import type { Command } from '../command.ts';
import { printDiagnostics } from '../output.ts';
import { netifd } from '../netifd.ts';
import { paths } from '../paths.ts';
import { report } from '../report.ts';

export const applyCommand: Command = {
  summary: 'apply /etc/config/vpn-passthrough to the kernel',
  usage: 'apply [--check] [--confdir DIR] [--socket PATH]',
  async run(platform, args) {
    const result = await apply(platform, paths(args), { netifd: netifd(platform, args), check: args.flags.has('check') });

    printDiagnostics(platform, result.diagnostics);
    report(result, (line) => platform.out(line));
    if (!result.ok) platform.err('vpn-passthrough: nothing applied; the previous rules stay in place');

    return result.ok ? 0 : 1;
  },
};
