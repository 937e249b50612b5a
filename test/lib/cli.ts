// Runs the vpn-passthrough command as the tests see it: the firmware's Node
// entry point (bundled by build/test.mjs), optionally inside a network
// namespace.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** Compiled by build/test.mjs into the run's own directory. */
export const CLI = join(process.env.VPNPT_TEST_OUT ?? join(process.cwd(), 'dist/test'), 'vpn-passthrough.mjs');

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: readonly string[], options: { netns?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const argv = [process.execPath, '--enable-source-maps', CLI, ...args];
  const full = options.netns ? ['ip', 'netns', 'exec', options.netns, ...argv] : argv;
  const r = spawnSync(full[0]!, full.slice(1), { encoding: 'utf8', input: options.input ?? '', env: options.env ?? process.env, timeout: 60_000 });

  return { status: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}
