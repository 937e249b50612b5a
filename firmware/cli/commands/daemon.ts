import { Daemon } from '../../daemon/daemon.ts';
import { DEFAULT_SOCKET } from '../../ubus/client.ts';
import { flagValue } from '../args.ts';
import type { Command } from '../command.ts';
import { paths } from '../paths.ts';

export const daemonCommand: Command = {
  summary: 'the service: apply, publish ubus object vpn-passthrough, re-apply on SIGHUP',
  usage: 'daemon [--socket PATH] [--confdir DIR] [--statedir DIR]',
  run: (platform, args) => new Daemon(platform, { paths: paths(args), socket: flagValue(args, 'socket', DEFAULT_SOCKET) }).run(),
};
