// The vpn-passthrough command: parses the arguments and hands over to the
// command's module. Every command receives the Platform; none touches a
// runtime API directly.

import { errorMessage, type Platform } from '../platform/platform.ts';
import { VERSION } from '../version.ts';
import { parseArgs, UsageError, type Args } from './args.ts';
import { COMMANDS } from './commands.ts';

/** Flags that take a value, for every command. */
const VALUED = new Set(['confdir', 'socket', 'conntrack', 'statedir', 'poll', 'protocol', 'host', 'timeout', 'trigger']);

function help(platform: Platform): void {
  platform.out(`vpn-passthrough ${VERSION}: VPN passthrough (IPsec, PPTP, L2TP) for OpenWrt`);
  platform.out('');
  platform.out('Usage:');
  for (const command of Object.values(COMMANDS)) platform.out(`  vpn-passthrough ${command.usage.padEnd(44)} ${command.summary}`);
  platform.out(`  vpn-passthrough ${'--version'.padEnd(44)} print the version`);
  platform.out('');
  platform.out('Every command takes --confdir DIR (default /etc/config), like uci -c.');
}

export async function main(platform: Platform): Promise<number> {
  let args: Args;

  try {
    args = parseArgs(platform.args, VALUED);
  } catch (e) {
    platform.err(`vpn-passthrough: ${errorMessage(e)}`);

    return 2;
  }

  if (args.flags.has('version') || args.command === 'version') {
    platform.out(VERSION);

    return 0;
  }

  if (args.command === undefined || args.command === 'help' || args.flags.has('help')) {
    help(platform);

    return args.command === undefined && !args.flags.has('help') ? 2 : 0;
  }

  const command = COMMANDS[args.command];

  if (!command) {
    platform.err(`vpn-passthrough: unknown command '${args.command}' (try: vpn-passthrough help)`);

    return 2;
  }

  try {
    return await command.run(platform, args);
  } catch (e) {
    if (e instanceof UsageError) {
      platform.err(`vpn-passthrough ${args.command}: ${e.message}`);
      platform.err(`usage: vpn-passthrough ${command.usage}`);

      return 2;
    }
    throw e;
  }
}
