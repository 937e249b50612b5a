// The command table, in the order `vpn-passthrough help` lists them.

import type { Command } from './command.ts';

export const COMMANDS: Record<string, Command> = {};
