// Builds OpenWrt .ipk packages the way OpenWrt's scripts/ipkg-build does:
// a gzip'd tar (not Debian's ar) of ./debian-binary, ./data.tar.gz and
// ./control.tar.gz, made with GNU tar (--format=gnu --sort=name
// --numeric-owner, owner 0:0, one fixed mtime) and `gzip -n`, so that two
// builds of one commit are byte-identical.
//
//   node build/ipk.mjs [outdir]    (after build/bundle.mjs; default dist/)

import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { DIST, PACKAGE_VERSION, ROOT, sourceDateEpoch } from './common.mjs';
import { LICENSE, MAINTAINER, PACKAGES, SOURCE, URL } from './packages.mjs';

/** A `define Package/<name>/<script> ... endef` block of the package's SDK
 * Makefile, as the shell script opkg will run, or undefined. The Makefile
 * is the one place the maintainer scripts are written. */
export function makefileScript(name, script) {
  const makefile = readFileSync(join(ROOT, 'package', name, 'Makefile'), 'utf8');
  const m = makefile.match(new RegExp(`^define Package/${name}/${script}\\n([\\s\\S]*?)^endef$`, 'm'));

  return m ? m[1].replaceAll('$$', '$') : undefined;
}

/** What the package depends on: OpenWrt puts libc first for every package
 * but kernel modules (PKG_FIXUP_DEPENDS, include/package-defaults.mk). */
export const packageDepends = (pkg) => ['libc', ...pkg.depends.filter((d) => d !== 'libc')];

/** The .ipk's name, as package-pack.mk names it: <name>_<version>-r<release>_<arch>.ipk. */
export const ipkName = (pkg) => `${pkg.name}_${PACKAGE_VERSION}_all.ipk`;

/** The control file, fields in the order OpenWrt's package-pack.mk writes them. */
export function controlFile(pkg, installedSize) {
  return [
    `Package: ${pkg.name}`,
    `Version: ${PACKAGE_VERSION}`,
    `Depends: ${packageDepends(pkg).join(', ')}`,
    `Source: ${SOURCE}`,
    `SourceName: ${pkg.name}`,
    `License: ${LICENSE}`,
    `Section: ${pkg.section}`,
    `URL: ${URL}`,
    `Maintainer: ${MAINTAINER}`,
    'Architecture: all',
    `Installed-Size: ${installedSize}`,
    `Description: ${pkg.description.join('\n ')}`,
    '',
  ].join('\n');
}

// The scripts OpenWrt generates for every package: they hand over to
// /lib/functions.sh, which runs the package's own postinst-pkg / prerm-pkg,
// uci-defaults, and enables + starts (or stops + disables) init scripts.
const POSTINST = '#!/bin/sh\n[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0\n[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0\n. ${IPKG_INSTROOT}/lib/functions.sh\ndefault_postinst $0 $@\n';
const PRERM = '#!/bin/sh\n[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0\n. ${IPKG_INSTROOT}/lib/functions.sh\ndefault_prerm $0 $@\n';

function tarGz(dir, members, epoch) {
  const tar = execFileSync(
    'tar',
    ['--format=gnu', '--numeric-owner', '--owner=0', '--group=0', '--sort=name', `--mtime=@${epoch}`, '-C', dir, '-cf', '-', ...members],
    { maxBuffer: 1 << 28 },
  );

  return { tar, gz: execFileSync('gzip', ['-n', '-9', '-c'], { input: tar, maxBuffer: 1 << 28 }) };
}

function write(path, data, mode) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
  chmodSync(path, mode);
}

/**
 * The package's root as Package/<name>/install leaves it (OpenWrt's IDIR):
 * our files with their modes, directories 0755 whatever the umask, and
 * lib/upgrade/keep.d/<name> naming the conffiles the package does not ship
 * (so that sysupgrade keeps them).
 */
export function stagePackage(pkg, dir, bundle) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });

  for (const [path, source, mode] of pkg.files) {
    const from = source === 'bundle' ? bundle : join(ROOT, source);

    if (!existsSync(from)) throw new Error(`${pkg.name}: ${path}: source ${from} is missing`);
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    copyFileSync(from, join(dir, path));
    chmodSync(join(dir, path), mode);
  }

  const unshipped = pkg.conffiles.filter((c) => !pkg.files.some(([path]) => path === c));

  if (unshipped.length > 0) write(join(dir, 'lib/upgrade/keep.d', pkg.name), unshipped.map((c) => `${c}\n`).join(''), 0o644);
  execFileSync('find', [dir, '-type', 'd', '-exec', 'chmod', '0755', '{}', '+']);
}

export function buildIpk(pkg, { outdir = DIST, bundle = join(outdir, 'vpn-passthrough.js'), epoch = sourceDateEpoch() } = {}) {
  const stage = join(outdir, 'stage', 'ipk', pkg.name);
  const data = join(stage, 'data');
  const control = join(stage, 'control');

  rmSync(stage, { recursive: true, force: true });
  stagePackage(pkg, data, bundle);

  const dataTar = tarGz(data, ['.'], epoch);

  write(join(control, 'control'), controlFile(pkg, dataTar.tar.length), 0o644);
  chmodSync(control, 0o755);
  if (pkg.conffiles.length > 0) write(join(control, 'conffiles'), pkg.conffiles.join('\n') + '\n', 0o644);
  write(join(control, 'postinst'), POSTINST, 0o755);
  write(join(control, 'prerm'), PRERM, 0o755);

  // The package's own scripts, as package-pack.mk stores them: postinst and
  // prerm for default_postinst / default_prerm to run, preinst and postrm
  // as opkg's own.
  for (const [script, file] of [['preinst', 'preinst'], ['postinst', 'postinst-pkg'], ['prerm', 'prerm-pkg'], ['postrm', 'postrm']]) {
    const body = makefileScript(pkg.name, script);

    if (body !== undefined) write(join(control, file), body, 0o755);
  }

  const outer = join(stage, 'ipk');

  mkdirSync(outer, { recursive: true });
  writeFileSync(join(outer, 'debian-binary'), '2.0\n');
  chmodSync(join(outer, 'debian-binary'), 0o644);
  writeFileSync(join(outer, 'data.tar.gz'), dataTar.gz);
  writeFileSync(join(outer, 'control.tar.gz'), tarGz(control, ['.'], epoch).gz);
  chmodSync(join(outer, 'data.tar.gz'), 0o644);
  chmodSync(join(outer, 'control.tar.gz'), 0o644);

  const file = join(outdir, ipkName(pkg));

  mkdirSync(outdir, { recursive: true });
  // Member order as ipkg-build writes it (explicit names keep their order).
  writeFileSync(file, tarGz(outer, ['./debian-binary', './data.tar.gz', './control.tar.gz'], epoch).gz);

  return file;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    for (const pkg of PACKAGES) console.log(`ipk: ${buildIpk(pkg, process.argv[2] ? { outdir: process.argv[2] } : {})}`);
  } catch (e) {
    console.error(`ipk: ${e.message}`);
    process.exit(1);
  }
}
