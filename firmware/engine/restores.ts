// The record of restores (the state directory's restores.json, gone at
// reboot like the rest): each time the kernel had lost what we loaded and we
// put it back, when, who noticed and what was missing. `status` reports it.

import type { Restore, Restores } from '../core/model.ts';
import type { Platform } from '../platform/platform.ts';
import { readText, writeFileAtomic } from './files.ts';
import type { Paths } from './inputs.ts';

const RESTORES = 'restores.json';
/** The newest ones kept, for status; the count covers all since boot. */
const KEPT = 10;

export async function restores(platform: Platform, paths: Paths): Promise<Restores> {
  const text = await readText(platform, `${paths.statedir}/${RESTORES}`).catch(() => null);

  try {
    const r = text === null ? null : (JSON.parse(text) as Restores);

    return r && typeof r.count === 'number' && Array.isArray(r.recent) ? r : { count: 0, recent: [] };
  } catch {
    return { count: 0, recent: [] };
  }
}

export async function recordRestore(platform: Platform, paths: Paths, restore: Restore): Promise<void> {
  const before = await restores(platform, paths);
  const after: Restores = { count: before.count + 1, recent: [restore, ...before.recent].slice(0, KEPT) };

  try {
    await platform.makeDir(paths.statedir, 0o755);
    await writeFileAtomic(platform, `${paths.statedir}/${RESTORES}`, JSON.stringify(after) + '\n');
  } catch {
    // The rules are back; only the record of it is lost.
  }
}
