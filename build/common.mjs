// Facts shared by the build scripts: where things are, the version, the
// reproducible timestamp.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = join(ROOT, 'dist');

/** The one version number, from the VERSION file. */
export const VERSION = readFileSync(join(ROOT, 'VERSION'), 'utf8').trim();

if (!/^[0-9][0-9A-Za-z.+~-]*$/.test(VERSION)) {
  throw new Error(`VERSION: '${VERSION}' is not a package version (digits, letters, . + ~ -)`);
}

/** Seconds since the epoch for every mtime we write: SOURCE_DATE_EPOCH,
 * else the last commit's time, else 0 (a tree outside git). */
export function sourceDateEpoch() {
  const env = process.env.SOURCE_DATE_EPOCH;

  if (env !== undefined && env !== '') {
    if (!/^\d+$/.test(env)) throw new Error(`SOURCE_DATE_EPOCH: '${env}' is not a number of seconds`);

    return Number(env);
  }

  try {
    const out = execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });

    return Number(String(out).trim()) || 0;
  } catch {
    return 0;
  }
}
