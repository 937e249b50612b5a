// `make firmware`: without an Image Builder it says how to get one (before
// building anything); with one it puts our packages in its packages/ (.apk
// for a 25.x one, CONFIG_USE_APK=y; .ipk up to 24.10) and runs its
// documented `make image PROFILE=... PACKAGES=...`. No real Image Builder
// can run here, so the ones in these tests only record what they were asked.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { PKG_VERSION } from '../lib/packages.ts';

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
  assert.not.match(r.stdout, /(ipk|apk):/, 'stopped before building the packages');
});

test('a directory that is no Image Builder is refused with the reason', () => {
  const r = spawnSync('node', ['build/firmware.mjs', 'check', `IMAGEBUILDER=${tmp}`], { encoding: 'utf8' });

  assert.is(r.status, 1);
  assert.match(r.stderr, /is not an unpacked OpenWrt Image Builder/);
});

const dist = join(tmp, 'dist');
const ours = (format: 'ipk' | 'apk') => ['vpn-passthrough', 'luci-app-vpn-passthrough'].map((n) => (format === 'ipk' ? `${n}_${PKG_VERSION}_all.ipk` : `${n}-${PKG_VERSION}.apk`));

execFileSync('sh', ['-c', 'node build/bundle.mjs "$0/vpn-passthrough.js" && node build/ipk.mjs "$0" && node build/apk.mjs "$0"', dist], { stdio: 'pipe' });

for (const [format, config, txiki] of [
  ['ipk', 'CONFIG_TARGET_x86=y\nCONFIG_TARGET_x86_64=y\n', 'txiki_26.6.0-1_x86_64.ipk'],
  ['apk', 'CONFIG_TARGET_x86=y\nCONFIG_TARGET_x86_64=y\nCONFIG_USE_APK=y\n', 'txiki-26.6.0-r1.apk'],
] as const) {
  test(`with ${format === 'apk' ? 'a 25.x (apk)' : 'a 24.10 (ipk)'} Image Builder: our .${format} files copied, make image with ours, their dependencies and extras`, () => {
    const ib = imageBuilder(format, config);

    let r = spawnSync('node', ['build/firmware.mjs', 'image', `IMAGEBUILDER=${ib}`, 'PROFILE=generic', 'EXTRA_PACKAGES=luci', `PKGDIR=${dist}`], { encoding: 'utf8' });

    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`installs \\.${format} packages`));
    // Only this format's files: the Image Builder indexes (apk) or lists (opkg) what it finds there itself.
    assert.equal(readdirSync(join(ib, 'packages')).sort(), [...ours(format)].sort());
    for (const n of ours(format)) assert.ok(readFileSync(join(ib, 'packages', n)).equals(readFileSync(join(dist, n))), n);
    assert.equal(readFileSync(join(ib, 'asked.txt'), 'utf8').split('\n'), [
      'PROFILE=generic',
      'PACKAGES=vpn-passthrough luci-app-vpn-passthrough txiki kmod-nf-nathelper-extra nftables luci-base luci',
      '',
    ]);
    assert.match(r.stderr, new RegExp(`no txiki package in .*packages[^]*put its \\.${format} there`));

    writeFileSync(join(ib, 'packages', txiki), '');
    r = spawnSync('node', ['build/firmware.mjs', 'image', `IMAGEBUILDER=${ib}`, `PKGDIR=${dist}`], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    assert.not.match(r.stderr, /no txiki package/);
    assert.match(readFileSync(join(ib, 'asked.txt'), 'utf8'), /^PROFILE=\n/);
  });
}

test('a missing package file says to run make first', () => {
  const ib = imageBuilder('missing', 'CONFIG_USE_APK=y\n');
  const r = spawnSync('node', ['build/firmware.mjs', 'image', `IMAGEBUILDER=${ib}`, `PKGDIR=${join(tmp, 'nothing')}`], { encoding: 'utf8' });

  assert.is(r.status, 1);
  assert.match(r.stderr, /vpn-passthrough-.*\.apk is missing: run make first/);
});

test.run();
