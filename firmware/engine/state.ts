// The state directory (/var/run/vpn-passthrough, gone at reboot): the last
// apply's outcome (state.json, read by status), the rulesets (the one being
// tried and the one last loaded, which tells whether a new apply changes
// anything and shows whoever debugs what the kernel got), and the
// fingerprints of the rulesets the kernel has accepted since boot, each with
// how the kernel listed our table right after loading it.

import { error, type Diagnostic } from '../core/diag.ts';
import type { HelperState, LastApply } from '../core/model.ts';
import { errorMessage, type Platform } from '../platform/platform.ts';
import { readText, writeFileAtomic } from './files.ts';
import type { Paths } from './inputs.ts';

const STATE = 'state.json';

/** Written by the init script's stop before it removes our table: the owner
 * takes the rules away on purpose, nothing may restore them. The daemon
 * removes it when it starts. */
export const STOPPED = 'stopped';

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
const LISTINGS = 'listings';
const REMEMBERED = 32;

/** What the kernel has accepted since boot, and how it listed each ruleset
 * right after loading it (what a later check compares the kernel with). */
export interface Accepted {
  has(ruleset: string): boolean;
  /** The kernel's listing of our table after this ruleset was loaded ('' for
   * no table), or null when none was recorded. */
  listing(ruleset: string): Promise<string | null>;
  remember(ruleset: string, listing: string): Promise<void>;
}

export async function accepted(platform: Platform, paths: Paths): Promise<Accepted> {
  const path = `${paths.statedir}/${ACCEPTED}`;
  const dir = `${paths.statedir}/${LISTINGS}`;
  const known = ((await readText(platform, path).catch(() => null)) ?? '').split('\n').filter(Boolean);

  return {
    has: (ruleset) => known.includes(fingerprint(ruleset)),
    listing: (ruleset) => readText(platform, `${dir}/${fingerprint(ruleset)}`).catch(() => null),
    async remember(ruleset, listing) {
      const print = fingerprint(ruleset);
      const kept = [...known.filter((k) => k !== print), print].slice(-REMEMBERED);

      try {
        await platform.makeDir(dir, 0o755);
        await writeFileAtomic(platform, `${dir}/${print}`, listing);
        await writeFileAtomic(platform, path, kept.join('\n') + '\n');
        for (const old of known.filter((k) => !kept.includes(k))) await platform.remove(`${dir}/${old}`).catch(() => undefined);
        known.splice(0, known.length, ...kept);
      } catch {
        // Only a shortcut and a reference are lost: the next apply checks and lists again.
      }
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
