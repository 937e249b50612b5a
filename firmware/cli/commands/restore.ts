// `vpn-passthrough restore`: asks the running service to check that the
// kernel still has its rules and to put back what it lost (ubus `restore`).
// firewall4's include runs it (when OpenWrt's `ubus` command is missing)
// after every firewall start and reload. Without the service it does
// nothing: a stopped service means the owner removed the rules on purpose
// (`vpn-passthrough apply` loads them by hand).

import { OBJECT, type RestoreOutcome } from '../../daemon/daemon.ts';
import { connect, DEFAULT_SOCKET } from '../../ubus/client.ts';
import { UbusError } from '../../ubus/errors.ts';
import { flagValue } from '../args.ts';
import type { Command } from '../command.ts';

export const restoreCommand: Command = {
  summary: 'ask the service to put back rules the kernel lost (nothing if it is stopped)',
  usage: 'restore [--trigger WHO] [--socket PATH]',
  async run(platform, args) {
    const socket = flagValue(args, 'socket', DEFAULT_SOCKET);
    const trigger = flagValue(args, 'trigger', 'restore command');
    const ubus = (await platform.exists(socket)) ? await connect({ connect: (path) => platform.connect(path), path: socket, reconnect: false, timeout: 25_000 }).catch(() => null) : null;

    if (!ubus) {
      platform.out(`vpn-passthrough: no ubus at ${socket}: the service is not running, nothing to restore`);

      return 0;
    }
    try {
      const r = (await ubus.call(OBJECT, 'restore', { trigger })) as unknown as RestoreOutcome;

      platform.out(r.restored ? `vpn-passthrough: restored: the kernel had lost them (${r.lost}) (${r.duration_ms} ms)` : 'vpn-passthrough: the kernel has the rules: nothing to restore');

      return 0;
    } catch (e) {
      if (e instanceof UbusError && e.code === 'NOT_FOUND' && e.op?.startsWith('lookup')) {
        platform.out('vpn-passthrough: the service is not running: nothing to restore');

        return 0;
      }
      platform.err(`vpn-passthrough: restore failed: ${(e as Error).message}`);

      return 1;
    } finally {
      ubus.close();
    }
  },
};
