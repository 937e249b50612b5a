// Builds OpenWrt 25.x .apk packages (apk-tools v3, "ADB" format) the way
// OpenWrt 25.12's include/package-pack.mk does: the same package root as
// the .ipk, plus lib/apk/packages/<name>.{list,conffiles,conffiles_static},
// the post-install / post-upgrade / pre-deinstall (/ post-deinstall) scripts
// composed from package/<name>/Makefile, then `apk mkpkg` — done by our own
// writer (build/apk/*.ts), byte for byte as apk-tools 3.0.5 would.
//
//   node build/apk.mjs [outdir]    (after build/bundle.mjs; default dist/)

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { DIST, PACKAGE_VERSION, ROOT, sourceDateEpoch } from './common.mjs';
import { makefileScript, packageDepends, stagePackage } from './ipk.mjs';
import { LICENSE, MAINTAINER, PACKAGES, SOURCE, URL } from './packages.mjs';
import { importTs } from './ts.mjs';

const { addPackageFiles, apkScripts, infoFields } = await importTs(join(ROOT, 'build/apk/openwrt.ts'));
const { compress, mkpkg, readTree } = await importTs(join(ROOT, 'build/apk/mkpkg.ts'));

/** The .apk's name, as package-pack.mk names it: no architecture in it. */
export const apkName = (pkg) => `${pkg.name}-${PACKAGE_VERSION}.apk`;

export function buildApk(pkg, { outdir = DIST, bundle = join(outdir, 'vpn-passthrough.js'), epoch = sourceDateEpoch() } = {}) {
  const idir = join(outdir, 'stage', 'apk', pkg.name);

  stagePackage(pkg, idir, bundle);
  addPackageFiles(idir, pkg.name, pkg.conffiles);

  const scripts = apkScripts(
    pkg.name,
    Object.fromEntries(['preinst', 'postinst', 'prerm', 'postrm'].map((s) => [s, makefileScript(pkg.name, s)]).filter(([, body]) => body !== undefined)),
  );
  const info = infoFields({
    name: pkg.name,
    version: PACKAGE_VERSION,
    description: pkg.description,
    license: LICENSE,
    origin: SOURCE,
    url: URL,
    maintainer: MAINTAINER,
    depends: packageDepends(pkg),
  });
  const file = join(outdir, apkName(pkg));

  mkdirSync(outdir, { recursive: true });
  writeFileSync(file, compress(mkpkg({ info, scripts, files: readTree(idir), epoch })));

  return file;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    for (const pkg of PACKAGES) console.log(`apk: ${buildApk(pkg, process.argv[2] ? { outdir: process.argv[2] } : {})}`);
  } catch (e) {
    console.error(`apk: ${e.message}`);
    process.exit(1);
  }
}
