// Our packages as the tests that check them see them: the version both
// formats carry, and the definitions build/packages.mjs gives the builders.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = process.cwd();

export const VERSION = readFileSync(join(ROOT, 'VERSION'), 'utf8').trim();
export const RELEASE = readFileSync(join(ROOT, 'RELEASE'), 'utf8').trim();
/** OpenWrt's VERSION of a package: <PKG_VERSION>-r<PKG_RELEASE>, for .ipk and .apk alike. */
export const PKG_VERSION = `${VERSION}-r${RELEASE}`;

export interface Pkg {
  name: string;
  description: string[];
  depends: string[];
  conffiles: string[];
  files: [string, string, number][];
}

export const { PACKAGES, LICENSE, MAINTAINER, SOURCE, URL } = (await import(join(ROOT, 'build/packages.mjs'))) as { PACKAGES: Pkg[]; LICENSE: string; MAINTAINER: string; SOURCE: string; URL: string };
