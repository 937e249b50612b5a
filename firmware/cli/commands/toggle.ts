import { hasErrors } from '../../core/diag.ts';
import { PROTOCOLS, type ProtocolName, type Status } from '../../core/model.ts';
import { OBJECT } from '../../daemon/daemon.ts';
import { changeProtocol } from '../../engine/edit.ts';
import { apply } from '../../engine/engine.ts';
import type { Platform } from '../../platform/platform.ts';
import { connect, DEFAULT_SOCKET } from '../../ubus/client.ts';
import { UbusError } from '../../ubus/errors.ts';
import { flagValue, UsageError, type Args } from '../args.ts';
import type { Command } from '../command.ts';
import { printDiagnostics } from '../output.ts';
import { netifd } from '../netifd.ts';
import { paths } from '../paths.ts';
import { report } from '../report.ts';

/** Through the running daemon (it writes UCI via rpcd and applies): the
 * new status, or null when no daemon answers on the bus. */
async function viaDaemon(platform: Platform, args: Args, protocol: ProtocolName, enabled: boolean): Promise<Status | null> {
  const socket = flagValue(args, 'socket', DEFAULT_SOCKET);

  if (!(await platform.exists(socket))) return null;

  const ubus = await connect({ connect: (path) => platform.connect(path), path: socket, reconnect: false, timeout: 30_000 }).catch(() => null);

  if (!ubus) return null;
  try {
    return ((await ubus.call(OBJECT, 'set', { protocol, enabled })) ?? null) as Status | null;
  } catch (e) {
    if (e instanceof UbusError && e.code === 'NOT_FOUND' && e.op?.startsWith('lookup')) return null;
    throw e;
  } finally {
    ubus.close();
  }
}

function toggle(enabled: boolean): Command {
  const verb = enabled ? 'enable' : 'disable';

  return {
    summary: `${verb} a protocol's passthrough (edits UCI, then applies)`,
    usage: `${verb} pptp|l2tp|ipsec [--confdir DIR] [--socket PATH]`,
    async run(platform, args) {
      const name = args.positionals[0];

      if (args.positionals.length !== 1 || !(PROTOCOLS as readonly string[]).includes(name!)) {
        throw new UsageError(name === undefined ? 'which protocol?' : `unknown protocol '${args.positionals.join(' ')}'`);
      }

      const protocol = name as ProtocolName;
      const p = paths(args);

      // The daemon owns the rules when it runs. With --confdir alone this
      // edits that directory directly; --socket says which daemon to ask.
      if (args.flags.has('socket') || !args.flags.has('confdir')) {
        try {
          const status = await viaDaemon(platform, args, protocol, enabled);

          if (status) {
            platform.out(`vpn-passthrough: ${protocol} ${enabled ? 'enabled' : 'disabled'} by the service: it ${status.protocols[protocol].enabled ? 'now passes' : 'is now dropped'}`);

            return status.last_apply?.ok === false ? 1 : 0;
          }
        } catch (e) {
          platform.err(`vpn-passthrough: the service refused: ${(e as Error).message}`);

          return 1;
        }
      }

      const edited = await changeProtocol(platform, p, protocol, { enabled });

      if (hasErrors(edited)) {
        printDiagnostics(platform, edited);
        platform.err('vpn-passthrough: configuration not changed');

        return 1;
      }
      platform.out(`vpn-passthrough: ${protocol} ${enabled ? 'enabled' : 'disabled'} in ${p.confdir}/vpn-passthrough`);

      const result = await apply(platform, p, { netifd: netifd(platform, args) });

      printDiagnostics(platform, result.diagnostics);
      report(result, (line) => platform.out(line));
      if (!result.ok) platform.err('vpn-passthrough: saved, but not applied; the previous rules stay in place');

      return result.ok ? 0 : 1;
    },
  };
}

export const enableCommand = toggle(true);
export const disableCommand = toggle(false);
