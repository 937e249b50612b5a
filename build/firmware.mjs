// `make firmware`: bakes our packages and their dependencies into a firmware
// image with an unpacked OpenWrt Image Builder, the documented way
// (`make image PROFILE=... PACKAGES=...`; local packages go in its packages/).
// A 25.x Image Builder installs .apk packages (CONFIG_USE_APK=y in its
// .config) and indexes its packages/ itself; up to 24.10 it installs .ipk.
//
//   node build/firmware.mjs check IMAGEBUILDER=DIR
//   node build/firmware.mjs image IMAGEBUILDER=DIR [PROFILE=name] [EXTRA_PACKAGES="a b"] [PKGDIR=dist]

import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { apkName } from './apk.mjs';
import { DIST } from './common.mjs';
import { ipkName } from './ipk.mjs';
import { PACKAGES } from './packages.mjs';

const HOW_TO_GET_ONE = `make firmware needs IMAGEBUILDER=<directory of an unpacked OpenWrt Image Builder>.
  Get the one for your router's target from the OpenWrt download server, e.g. for 25.12 (or 24.10):
    https://downloads.openwrt.org/releases/25.12.<n>/targets/<target>/<subtarget>/openwrt-imagebuilder-*.tar.zst
  (the Firmware Selector or the Table of Hardware names your target), unpack it, then:
    make firmware IMAGEBUILDER=/path/to/openwrt-imagebuilder-... PROFILE=<device profile>
  \`make -C /path/to/openwrt-imagebuilder-... info\` lists the profiles.`;

class Stop extends Error {}

function args(argv) {
  return Object.fromEntries(argv.map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]).filter(([k]) => k));
}

/** The Image Builder directory, checked, and the package format it installs; throws Stop with what to do. */
export function imageBuilder(dir) {
  if (!dir) throw new Stop(HOW_TO_GET_ONE);

  const ib = resolve(dir);
  const config = join(ib, '.config');

  if (!existsSync(join(ib, 'Makefile')) || !existsSync(config) || !existsSync(join(ib, 'packages'))) {
    throw new Stop(`${ib} is not an unpacked OpenWrt Image Builder (it has no Makefile, .config and packages/).\n${HOW_TO_GET_ONE}`);
  }

  return { ib, format: /^CONFIG_USE_APK=y$/m.test(readFileSync(config, 'utf8')) ? 'apk' : 'ipk' };
}

/** What make image installs: our packages, what they depend on, and extras. */
export function imagePackages(extra = '') {
  const ours = PACKAGES.map((p) => p.name);
  const deps = PACKAGES.flatMap((p) => p.depends).filter((d) => !ours.includes(d));

  return [...new Set([...ours, ...deps, ...extra.split(/\s+/).filter(Boolean)])];
}

/** Our package files for a format, as build/ipk.mjs and build/apk.mjs name them. */
const packageFile = (pkg, format) => (format === 'apk' ? apkName(pkg) : ipkName(pkg));

function image({ IMAGEBUILDER, PROFILE = '', EXTRA_PACKAGES = '', PKGDIR = DIST }) {
  const { ib, format } = imageBuilder(IMAGEBUILDER);

  console.log(`firmware: ${ib} installs .${format} packages (OpenWrt ${format === 'apk' ? '25.x' : '24.10 or older'})`);
  for (const pkg of PACKAGES) {
    const file = packageFile(pkg, format);

    if (!existsSync(join(PKGDIR, file))) throw new Stop(`${join(PKGDIR, file)} is missing: run make first`);
    copyFileSync(join(PKGDIR, file), join(ib, 'packages', file));
    console.log(`firmware: copied ${file} to ${join(ib, 'packages')}`);
  }

  const txiki = format === 'apk' ? /^txiki-[0-9].*\.apk$/ : /^txiki_.*\.ipk$/;

  if (!readdirSync(join(ib, 'packages')).some((f) => txiki.test(f))) {
    const where = format === 'apk' ? 'repositories' : 'repositories.conf';

    console.warn(`firmware: warning: no txiki package in ${join(ib, 'packages')}. OpenWrt's feeds have no txiki.js runtime yet:\n  unless a repository in the Image Builder's ${where} has 'txiki', put its .${format} there, or make image will fail to satisfy the dependency.`);
  }

  const make = ['-C', ib, 'image', `PACKAGES=${imagePackages(EXTRA_PACKAGES).join(' ')}`, ...(PROFILE ? [`PROFILE=${PROFILE}`] : [])];

  console.log(`firmware: make ${make.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ')}`);
  const run = spawnSync('make', make, { stdio: 'inherit' });

  if (run.status !== 0) throw new Stop(`the Image Builder's make image failed (status ${run.status ?? run.signal})`);
  console.log(`firmware: images are in ${join(ib, 'bin', 'targets')}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [command, ...rest] = process.argv.slice(2);

  try {
    if (command === 'check') imageBuilder(args(rest).IMAGEBUILDER);
    else if (command === 'image') image(args(rest));
    else throw new Stop(`usage: node build/firmware.mjs check|image IMAGEBUILDER=DIR [PROFILE=...] [EXTRA_PACKAGES=...]`);
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    console.error(`firmware: ${e.message}`);
    process.exit(1);
  }
}
