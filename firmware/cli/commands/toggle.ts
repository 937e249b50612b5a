import { PROTOCOLS, type ProtocolName } from '../../core/model.ts';
import { hasErrors } from '../../core/diag.ts';
import { changeProtocol } from '../../engine/edit.ts';
import { apply } from '../../engine/engine.ts';
import { UsageError } from '../args.ts';
import type { Command } from '../command.ts';
import { printDiagnostics } from '../output.ts';
import { paths } from '../paths.ts';
import { report } from './apply.ts';

function toggle(enabled: boolean): Command {
  const verb = enabled ? 'enable' : 'disable';

  return {
    summary: `${verb} a protocol's passthrough (edits UCI, then applies)`,
    usage: `${verb} pptp|l2tp|ipsec [--confdir DIR]`,
    async run(platform, args) {
      const name = args.positionals[0];

      if (args.positionals.length !== 1 || !(PROTOCOLS as readonly string[]).includes(name!)) {
        throw new UsageError(name === undefined ? 'which protocol?' : `unknown protocol '${args.positionals.join(' ')}'`);
      }

      const p = paths(args);
      const edited = await changeProtocol(platform, p, name as ProtocolName, { enabled });

      if (hasErrors(edited)) {
        printDiagnostics(platform, edited);
        platform.err('vpn-passthrough: configuration not changed');

        return 1;
      }
      platform.out(`vpn-passthrough: ${name} ${enabled ? 'enabled' : 'disabled'} in ${p.confdir}/vpn-passthrough`);

      const result = await apply(platform, p);

      printDiagnostics(platform, result.diagnostics);
      report(result, (line) => platform.out(line));
      if (!result.ok) platform.err('vpn-passthrough: saved, but not applied; the previous rules stay in place');

      return result.ok ? 0 : 1;
    },
  };
}

export const enableCommand = toggle(true);
export const disableCommand = toggle(false);
