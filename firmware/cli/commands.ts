// The command table, in the order `vpn-passthrough help` lists them.

import type { Command } from './command.ts';
import { applyCommand } from './commands/apply.ts';
import { daemonCommand } from './commands/daemon.ts';
import { probeCommand } from './commands/probe.ts';
import { renderCommand } from './commands/render.ts';
import { restoreCommand } from './commands/restore.ts';
import { sessionsCommand } from './commands/sessions.ts';
import { statusCommand } from './commands/status.ts';
import { disableCommand, enableCommand } from './commands/toggle.ts';

export const COMMANDS: Record<string, Command> = {
  apply: applyCommand,
  render: renderCommand,
  status: statusCommand,
  sessions: sessionsCommand,
  probe: probeCommand,
  enable: enableCommand,
  disable: disableCommand,
  restore: restoreCommand,
  daemon: daemonCommand,
};
