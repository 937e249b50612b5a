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

// apk (OpenWrt 25) accepts only its own version syntax: digits and dots, an
// optional letter, _alpha/_beta/_pre/_rc/_p... suffixes.
if (!/^[0-9]+(\.[0-9]+)*[a-z]?(_(alpha|beta|pre|rc|cvs|svn|git|hg|p)[0-9]*)*$/.test(VERSION)) {
  throw new Error(`VERSION: '${VERSION}' is not a package version apk accepts (e.g. 1.0.0, 1.2.3_rc1)`);
}

/** The packaging release (OpenWrt's PKG_RELEASE), from the RELEASE file: bump it
 * when the packages change but the program does not. */
export const RELEASE = readFileSync(join(ROOT, 'RELEASE'), 'utf8').trim();

if (!/^[1-9][0-9]*$/.test(RELEASE)) throw new Error(`RELEASE: '${RELEASE}' is not a release number (1, 2, ...)`);

/** The packages' version, as OpenWrt writes VERSION (include/package-defaults.mk): <version>-r<release>. */
export const PACKAGE_VERSION = `${VERSION}-r${RELEASE}`;

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
