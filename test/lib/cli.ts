// Runs the vpn-passthrough command as the tests see it: the firmware's Node
// entry point (bundled by build/test.mjs), optionally inside a network
// namespace. With TJS=/path/to/tjs in the environment, the shipped bundle
// dist/vpn-passthrough.js runs under that txiki.js instead: the same tests
// then check the program as the router runs it.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** Compiled by build/test.mjs into the run's own directory. */
export const CLI = join(process.env.VPNPT_TEST_OUT ?? join(process.cwd(), 'dist/test'), 'vpn-passthrough.mjs');

/** argv that starts the command (before its own arguments). */
export const COMMAND: readonly string[] = process.env.TJS
  ? [process.env.TJS, 'run', join(process.cwd(), 'dist/vpn-passthrough.js')]
  : [process.execPath, '--enable-source-maps', CLI];

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: readonly string[], options: { netns?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const argv = [...COMMAND, ...args];
  const full = options.netns ? ['ip', 'netns', 'exec', options.netns, ...argv] : argv;
  const r = spawnSync(full[0]!, full.slice(1), { encoding: 'utf8', input: options.input ?? '', env: options.env ?? process.env, timeout: 60_000 });

  return { status: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}
