// What OpenWrt 25.12's include/package-pack.mk does around `apk mkpkg`
// (CONFIG_USE_APK): the maintainer scripts it composes from a package's
// Makefile defines, the files it adds under /lib/apk/packages, and the
// --info fields. See ../shared/fixtures/apk/OPENWRT-PACKING.md, §3-8.

import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, lstatSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { ScriptName } from './schema.ts';

/** The package's own scripts as package-pack.mk writes them to files: each
 * `define Package/<name>/<script>` body, make's $$ undone, as `echo` writes
 * it (ending in a newline); build/ipk.mjs makefileScript() reads them. */
export interface MakefileScripts {
  preinst?: string;
  postinst?: string;
  prerm?: string;
  postrm?: string;
}

/** `sed '/^\s*#!/d'`: the text without its #! lines. */
const withoutShebangs = (text = '') =>
  text
    .split(/(?<=\n)/)
    .filter((line) => !/^\s*#!/.test(line))
    .join('');

/**
 * The apk scripts: default_postinst / default_prerm from /lib/functions.sh,
 * then the package's own postinst / prerm, inline; upgrades run the same
 * with PKG_UPGRADE=1. The preinst and postrm stay scripts of their own.
 */
export function apkScripts(name: string, own: MakefileScripts): Partial<Record<ScriptName, string>> {
  const source = ['[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0\n', '. ${IPKG_INSTROOT}/lib/functions.sh\n', 'export root="${IPKG_INSTROOT}"\n', `export pkgname="${name}"\n`].join('');
  const postInstall = `#!/bin/sh\n[ "\${IPKG_NO_SCRIPT}" = "1" ] && exit 0\n${source}add_group_and_user\ndefault_postinst\n${withoutShebangs(own.postinst)}`;
  const scripts: Partial<Record<ScriptName, string>> = {};

  if (own.preinst !== undefined) scripts['pre-install'] = own.preinst;
  scripts['post-install'] = postInstall;
  if (own.preinst !== undefined) scripts['pre-upgrade'] = `#!/bin/sh\nexport PKG_UPGRADE=1\n${withoutShebangs(own.preinst)}`;
  scripts['post-upgrade'] = `#!/bin/sh\nexport PKG_UPGRADE=1\n${withoutShebangs(postInstall)}`;
  scripts['pre-deinstall'] = `#!/bin/sh\n${source}default_prerm\n${withoutShebangs(own.prerm)}`;
  // sed -z 's/^\s*#!/#!/': whitespace before the first #! goes.
  if (own.postrm !== undefined) scripts['post-deinstall'] = own.postrm.replace(/^\s*#!/, '#!');

  return scripts;
}

function files(root: string, rel = ''): { path: string; type: 'file' | 'symlink' | 'dir' }[] {
  return readdirSync(join(root, rel)).flatMap((name) => {
    const path = `${rel}/${name}`;
    const st = lstatSync(join(root, path));

    if (st.isDirectory()) return [{ path, type: 'dir' as const }, ...files(root, path)];

    return [{ path, type: st.isSymbolicLink() ? ('symlink' as const) : ('file' as const) }];
  });
}

const cOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * Adds lib/apk/packages/<name>.list (every file and symlink, sorted, made
 * before the conffiles files so it lists neither), .conffiles (the
 * Makefile's conffiles text) and .conffiles_static (path and SHA-256 of each
 * conffile the package ships) to a staged package root.
 */
export function addPackageFiles(idir: string, name: string, conffiles: string[]): void {
  const dir = join(idir, 'lib/apk/packages');
  const write = (file: string, text: string) => {
    writeFileSync(join(dir, file), text);
    chmodSync(join(dir, file), 0o644);
  };

  mkdirSync(dir, { recursive: true });
  chmodSync(join(idir, 'lib'), 0o755);
  chmodSync(join(idir, 'lib/apk'), 0o755);
  chmodSync(dir, 0o755);

  const listed = files(idir).filter((f) => f.type !== 'dir').map((f) => f.path).sort(cOrder);

  write(`${name}.list`, listed.map((p) => `${p}\n`).join(''));
  if (conffiles.length === 0) return;
  write(`${name}.conffiles`, `${conffiles.join('\n')}\n`);

  const shipped = conffiles.filter((c) => {
    try {
      return lstatSync(join(idir, c)).isFile();
    } catch {
      return false;
    }
  });

  if (shipped.length > 0) write(`${name}.conffiles_static`, shipped.map((c) => `${c} ${createHash('sha256').update(readFileSync(join(idir, c))).digest('hex')}\n`).join(''));
}

export interface InfoInput {
  name: string;
  version: string;
  description: string[];
  license: string;
  origin: string;
  url: string;
  maintainer: string;
  /** DEPENDS of the Makefile, without the '+'; OpenWrt puts libc first. */
  depends: string[];
}

/** The --info fields, in the order package-pack.mk passes them (the order does not change the bytes). */
export function infoFields(p: InfoInput): [string, string][] {
  const depends = ['libc', ...p.depends.filter((d) => d !== 'libc')];

  return [
    ['name', p.name],
    ['version', p.version],
    // $(strip): one line, every run of whitespace one space.
    ['description', p.description.join(' ').replace(/\s+/g, ' ').trim()],
    ['arch', 'noarch'],
    ['license', p.license],
    ['origin', p.origin],
    ['url', p.url],
    ['maintainer', p.maintainer],
    // Every package provides @<name>-any (include/package.mk); '@' = virtual, no version.
    ['provides', `${p.name}-any`],
    ['depends', depends.join(' ')],
  ];
}
