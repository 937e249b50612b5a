import { Daemon } from '../../daemon/daemon.ts';
import { DEFAULT_SOCKET } from '../../ubus/client.ts';
import { flagValue, UsageError } from '../args.ts';
import type { Command } from '../command.ts';
import { paths } from '../paths.ts';

export const daemonCommand: Command = {
  summary: 'the service: apply, publish ubus object vpn-passthrough, re-apply on SIGHUP, restore what the kernel loses',
  usage: 'daemon [--socket PATH] [--confdir DIR] [--statedir DIR] [--poll SECONDS] [--no-watchdog]',
  run(platform, args) {
    const poll = Number(flagValue(args, 'poll', '10'));

    if (!(poll >= 1)) throw new UsageError(`--poll: '${flagValue(args, 'poll', '')}' is not a number of seconds (at least 1)`);

    return new Daemon(platform, { paths: paths(args), socket: flagValue(args, 'socket', DEFAULT_SOCKET), pollSeconds: poll, watchdog: !args.flags.has('no-watchdog') }).run();
  },
};
