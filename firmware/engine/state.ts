// The state directory (/var/run/vpn-passthrough, gone at reboot): the last
// apply's outcome (state.json, read by status), the rulesets (the one being
// tried and the one last loaded, which tells whether a new apply changes
// anything and shows whoever debugs what the kernel got), and the
// fingerprints of the rulesets the kernel has accepted since boot.

import { error, type Diagnostic } from '../core/diag.ts';
import type { HelperState, LastApply } from '../core/model.ts';
import { errorMessage, type Platform } from '../platform/platform.ts';
import { readText, writeFileAtomic } from './files.ts';
import type { Paths } from './inputs.ts';

const STATE = 'state.json';

/** The ruleset goes to nft as a file in the state dir (nft -f FILE):
 * `ruleset.next.nft` while it is tried, `ruleset.nft` once loaded, which
 * also tells the next apply whether anything changed. */
const RULESET = 'ruleset.nft';
const NEXT = 'ruleset.next.nft';

export async function stageRuleset(platform: Platform, paths: Paths, ruleset: string, out: Diagnostic[]): Promise<string | null> {
  const path = `${paths.statedir}/${NEXT}`;

  try {
    await platform.makeDir(paths.statedir, 0o755);
    await writeFileAtomic(platform, path, ruleset);

    return path;
  } catch (e) {
    out.push(error('statedir_unwritable', `cannot write ${path}: ${errorMessage(e)}`));

    return null;
  }
}

/** The ruleset last loaded (null: none recorded). */
export async function lastRuleset(platform: Platform, paths: Paths): Promise<string | null> {
  return readText(platform, `${paths.statedir}/${RULESET}`).catch(() => null);
}

/** The staged ruleset was loaded: it becomes the last one. */
export async function commitRuleset(platform: Platform, paths: Paths): Promise<void> {
  await platform.rename(`${paths.statedir}/${NEXT}`, `${paths.statedir}/${RULESET}`);
}

/** FNV-1a, 32 bits, over the UTF-16 code units: a fingerprint, not a secret. */
function fingerprint(text: string): string {
  let h = 0x811c9dc5;

  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);

  return `${(h >>> 0).toString(16)}-${text.length}`;
}

const ACCEPTED = 'accepted';
const REMEMBERED = 32;

/** What the kernel has accepted since boot: ask, then tell after a load. */
export interface Accepted {
  has(ruleset: string): boolean;
  remember(ruleset: string): Promise<void>;
}

export async function accepted(platform: Platform, paths: Paths): Promise<Accepted> {
  const path = `${paths.statedir}/${ACCEPTED}`;
  const known = ((await readText(platform, path).catch(() => null)) ?? '').split('\n').filter(Boolean);

  return {
    has: (ruleset) => known.includes(fingerprint(ruleset)),
    async remember(ruleset) {
      const print = fingerprint(ruleset);

      if (known.includes(print)) return;
      await writeFileAtomic(platform, path, [...known, print].slice(-REMEMBERED).join('\n') + '\n').catch(() => undefined);
    },
  };
}

export interface State extends LastApply {
  helper: HelperState;
}

export async function record(platform: Platform, paths: Paths, state: State): Promise<void> {
  try {
    await platform.makeDir(paths.statedir, 0o755);
    await writeFileAtomic(platform, `${paths.statedir}/${STATE}`, JSON.stringify(state) + '\n');
  } catch {
    // A read-only or missing state dir must not turn a good apply into a failure.
  }
}

export async function recorded(platform: Platform, paths: Paths): Promise<State | null> {
  const text = await readText(platform, `${paths.statedir}/${STATE}`).catch(() => null);

  try {
    return text === null ? null : (JSON.parse(text) as State);
  } catch {
    return null;
  }
}

/** Validates everything, checks the ruleset with `nft -c` (when check), then
 * loads it in one transaction. Any failure leaves the kernel as it was. */
