// A network namespace owned by one test file: created with a unique name,
// always deleted (with whatever runs in it) when the file ends.

import { execFileSync, spawnSync } from 'node:child_process';

export function sh(cmd: string[], input?: string): string {
  return execFileSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', input: input ?? '', stdio: ['pipe', 'pipe', 'pipe'] });
}

export function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error('this test needs root (network namespaces, nftables): run make test as root');
}

export class Netns {
  readonly name: string;

  constructor(label: string) {
    requireRoot();
    this.name = `vpnpt-${label}-${process.pid}`;
    spawnSync('ip', ['netns', 'del', this.name]);
    sh(['ip', 'netns', 'add', this.name]);
    this.exec(['ip', 'link', 'set', 'lo', 'up']);
  }

  exec(cmd: string[], input?: string): string {
    return sh(['ip', 'netns', 'exec', this.name, ...cmd], input);
  }

  /** Runs and returns status + output without throwing. */
  try(cmd: string[], input?: string): { status: number; stdout: string; stderr: string } {
    const r = spawnSync('ip', ['netns', 'exec', this.name, ...cmd], { encoding: 'utf8', input: input ?? '' });

    return { status: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
  }

  nft(args: string[], input?: string): string {
    return this.exec(['nft', ...args], input);
  }

  delete(): void {
    // Kill anything left in the namespace, then remove it.
    const pids = spawnSync('ip', ['netns', 'pids', this.name], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);

    for (const pid of pids) spawnSync('kill', ['-9', pid]);
    spawnSync('ip', ['netns', 'del', this.name]);
  }
}
