// The nft binary: load a ruleset in one transaction, check one without
// touching the kernel, read our counters. nft's own transaction is what
// keeps the last good ruleset when a load fails.

import { error, type Diagnostic } from '../core/diag.ts';
import type { Counter } from '../core/model.ts';
import { TABLE } from '../core/render.ts';
import { errorCode, type Platform, type RunResult } from '../platform/platform.ts';

async function nft(platform: Platform, args: string[], stdin?: string): Promise<RunResult> {
  try {
    return await platform.run(['nft', ...args], stdin === undefined ? {} : { stdin });
  } catch (e) {
    if (errorCode(e) === 'ENOENT') return { status: 127, stdout: '', stderr: 'nft: command not found (install the nftables package)' };
    throw e;
  }
}

/** nft's complaint, trimmed to what a person reads: the first lines. */
function complaint(result: RunResult): string {
  const lines = result.stderr.trim().split('\n').filter(Boolean);

  return lines.slice(0, 6).join('\n') || `nft exited with status ${result.status}`;
}

/** Loads (or with check, only validates) the ruleset in a file; [] on success. */
export async function loadRuleset(platform: Platform, path: string, check = false): Promise<Diagnostic[]> {
  const result = await nft(platform, [...(check ? ['-c'] : []), '-f', path]);

  if (result.status === 0) return [];

  const said = complaint(result);

  // nft's own words go in `value` too, for pages that word the rest themselves.
  return [error(check ? 'nft_check_failed' : 'nft_failed', `nft ${check ? 'rejected the ruleset' : 'failed to load the ruleset'}; the previous rules stay in place:\n${said}`, undefined, said)];
}

/** Validates ruleset text against the kernel (`nft -c`) without loading it. */
export async function checkRuleset(platform: Platform, ruleset: string): Promise<Diagnostic[]> {
  const result = await nft(platform, ['-c', '-f', '-'], ruleset);

  if (result.status === 0) return [];
  const said = complaint(result);

  return [error('nft_check_failed', `nft rejected the ruleset:\n${said}`, undefined, said)];
}

/** Our named counters, or null when our table is not loaded. */
export async function readCounters(platform: Platform): Promise<Map<string, Counter> | null> {
  const result = await nft(platform, ['list', 'counters', 'table', 'inet', TABLE]);

  if (result.status !== 0) return null;

  const counters = new Map<string, Counter>();

  // counter pptp_pass {\n packets 12 bytes 3456\n }
  for (const m of result.stdout.matchAll(/counter (\w+) \{\s*packets (\d+) bytes (\d+)/g)) {
    counters.set(m[1]!, { packets: Number(m[2]), bytes: Number(m[3]) });
  }

  return counters;
}

/** Our table as the kernel holds it (`nft -s list table`: no counter
 * values), or null when there is none. */
export async function listTable(platform: Platform): Promise<string | null> {
  const result = await nft(platform, ['-s', 'list', 'table', 'inet', TABLE]);

  return result.status === 0 ? result.stdout : null;
}

/** Whether the kernel can give us the pptp conntrack helper: validates a
 * throw-away table holding one (the kernel loads the module if it can). */
export async function kernelHasPptpHelper(platform: Platform): Promise<boolean> {
  const probe = `table inet ${TABLE}_probe {\n\tct helper pptp { type "pptp" protocol tcp; l3proto ip; }\n}\n`;

  return (await nft(platform, ['-c', '-f', '-'], probe)).status === 0;
}
