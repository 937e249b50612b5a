// What this router's conntrack keeps for the sessions view: byte counts
// (nf_conntrack_acct) and start times (nf_conntrack_timestamp), from their
// sysctls; null where they cannot be read (no such file: a kernel without
// the feature, or a table saved elsewhere).

import type { SessionsReport } from '../core/model.ts';
import type { Platform } from '../platform/platform.ts';
import { readText } from './files.ts';

const SYS = '/proc/sys/net/netfilter';

async function flag(platform: Platform, name: string): Promise<boolean | null> {
  const text = await readText(platform, `${SYS}/${name}`).catch(() => null);

  return text === null ? null : text.trim() !== '0';
}

export async function conntrackKeeps(platform: Platform): Promise<NonNullable<SessionsReport['conntrack']>> {
  return { accounting: await flag(platform, 'nf_conntrack_acct'), timestamps: await flag(platform, 'nf_conntrack_timestamp') };
}
