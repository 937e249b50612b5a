// `make firmware`: without an Image Builder it says how to get one (before
// building anything); with one it puts our packages in its packages/ and
// runs its documented `make image PROFILE=... PACKAGES=...`. No real Image
// Builder can run here, so the one in the last test only records what it
// was asked to build.

import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

const VERSION = readFileSync('VERSION', 'utf8').trim();
const tmp = mkdtempSync(join(tmpdir(), `vpnpt-firmware-${process.pid}-`));

test.after(() => rmSync(tmp, { recursive: true, force: true }));

function imageBuilder(name: string, config = 'CONFIG_TARGET_x86=y\nCONFIG_TARGET_x86_64=y\n'): string {
  const ib = join(tmp, name);

  mkdirSync(join(ib, 'packages'), { recursive: true });
  writeFileSync(join(ib, '.config'), config);
  writeFileSync(join(ib, 'Makefile'), 'image:\n\t@printf "%s\\n" "PROFILE=$(PROFILE)" "PACKAGES=$(PACKAGES)" > asked.txt\n');

  return ib;
}

test('without IMAGEBUILDER, make firmware says how to get one and builds nothing', () => {
  const r = spawnSync('make', ['firmware'], { encoding: 'utf8' });

  assert.is.not(r.status, 0);
  assert.match(r.stderr, /make firmware needs IMAGEBUILDER=<directory of an unpacked OpenWrt Image Builder>/);
  assert.match(r.stderr, /openwrt-imagebuilder-/);
  assert.not.match(r.stdout, /ipk:/, 'stopped before building the packages');
});

test('a directory that is no Image Builder, or an apk-based one, is refused with the reason', () => {
  let r = spawnSync('node', ['build/firmware.mjs', 'check', `IMAGEBUILDER=${tmp}`], { encoding: 'utf8' });

  assert.is(r.status, 1);
  assert.match(r.stderr, /is not an unpacked OpenWrt Image Builder/);

  r = spawnSync('node', ['build/firmware.mjs', 'check', `IMAGEBUILDER=${imageBuilder('apk', 'CONFIG_USE_APK=y\n')}`], { encoding: 'utf8' });
  assert.is(r.status, 1);
  assert.match(r.stderr, /apk-based Image Builder/);
});

test('with an Image Builder: packages copied, make image with ours, their dependencies and extras', () => {
  const dist = join(tmp, 'dist');
  const ib = imageBuilder('ib');
  const names = ['vpn-passthrough', 'luci-app-vpn-passthrough'].map((n) => `${n}_${VERSION}_all.ipk`);

  execFileSync('sh', ['-c', 'node build/bundle.mjs "$0/vpn-passthrough.js" && node build/ipk.mjs "$0"', dist], { stdio: 'pipe' });

  let r = spawnSync('node', ['build/firmware.mjs', 'image', `IMAGEBUILDER=${ib}`, 'PROFILE=generic', 'EXTRA_PACKAGES=luci', `PKGDIR=${dist}`], { encoding: 'utf8' });

  assert.is(r.status, 0, r.stderr);
  for (const n of names) assert.ok(readFileSync(join(ib, 'packages', n)).equals(readFileSync(join(dist, n))), n);
  assert.equal(readFileSync(join(ib, 'asked.txt'), 'utf8').split('\n'), [
    'PROFILE=generic',
    'PACKAGES=vpn-passthrough luci-app-vpn-passthrough txiki kmod-nf-nathelper-extra nftables luci-base luci',
    '',
  ]);
  assert.match(r.stderr, /no txiki package in .*packages/);

  copyFileSync(join(dist, names[0]!), join(ib, 'packages', 'txiki_26.6.0-1_x86_64.ipk'));
  r = spawnSync('node', ['build/firmware.mjs', 'image', `IMAGEBUILDER=${ib}`, `PKGDIR=${dist}`], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.not.match(r.stderr, /no txiki package/);
  assert.match(readFileSync(join(ib, 'asked.txt'), 'utf8'), /^PROFILE=\n/);
});

test.run();
